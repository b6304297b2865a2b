-- One row holding a number that every committed change of served data raises (an import run's transaction, the
-- partner sync). The API's response cache compares it with the revision a stored rendering was made at, so it
-- stays correct when another process (CLI import, another replica) wrote the data.
CREATE TABLE data_revision (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    revision BIGINT NOT NULL
);
INSERT INTO data_revision (id, revision) VALUES (1, 0);
