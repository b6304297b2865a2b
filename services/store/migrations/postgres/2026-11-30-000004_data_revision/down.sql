DROP TABLE data_revision;
