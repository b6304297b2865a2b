-- Full-text search and the indexes behind `sort`.
--
-- Search text is the entity's searchable columns, joined and folded like `queries::fold` (umlauts and ß spelled
-- out: ä → ae, ö → oe, ü → ue, ß → ss; lower case), so "Schultraeger", "SCHULTRÄGER" and "Schulträger" index alike.

-- SQLite: one contentless FTS5 table per entity keyed by the entity row's rowid (TEXT primary keys keep an
-- implicit rowid; inserts and updates never change it, and the store never runs VACUUM, which could). unicode61
-- folds case and remaining diacritics; triggers keep the index current on every write.

CREATE VIRTUAL TABLE organization_search USING fts5(body, content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2');
INSERT INTO organization_search (rowid, body) SELECT rowid, lower(replace(replace(replace(replace(replace(replace(replace(replace(COALESCE(name, '') || ' ' || COALESCE(short_name, ''), 'ä', 'ae'), 'Ä', 'ae'), 'ö', 'oe'), 'Ö', 'oe'), 'ü', 'ue'), 'Ü', 'ue'), 'ß', 'ss'), 'ẞ', 'ss')) FROM organization;
CREATE TRIGGER organization_search_insert AFTER INSERT ON organization BEGIN
    INSERT INTO organization_search (rowid, body) VALUES (new.rowid, lower(replace(replace(replace(replace(replace(replace(replace(replace(COALESCE(new.name, '') || ' ' || COALESCE(new.short_name, ''), 'ä', 'ae'), 'Ä', 'ae'), 'ö', 'oe'), 'Ö', 'oe'), 'ü', 'ue'), 'Ü', 'ue'), 'ß', 'ss'), 'ẞ', 'ss')));
END;
CREATE TRIGGER organization_search_update AFTER UPDATE OF name, short_name ON organization BEGIN
    DELETE FROM organization_search WHERE rowid = old.rowid;
    INSERT INTO organization_search (rowid, body) VALUES (new.rowid, lower(replace(replace(replace(replace(replace(replace(replace(replace(COALESCE(new.name, '') || ' ' || COALESCE(new.short_name, ''), 'ä', 'ae'), 'Ä', 'ae'), 'ö', 'oe'), 'Ö', 'oe'), 'ü', 'ue'), 'Ü', 'ue'), 'ß', 'ss'), 'ẞ', 'ss')));
END;
CREATE TRIGGER organization_search_delete AFTER DELETE ON organization BEGIN
    DELETE FROM organization_search WHERE rowid = old.rowid;
END;

CREATE VIRTUAL TABLE meeting_search USING fts5(body, content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2');
INSERT INTO meeting_search (rowid, body) SELECT rowid, lower(replace(replace(replace(replace(replace(replace(replace(replace(COALESCE(name, '') || ' ' || COALESCE(location, ''), 'ä', 'ae'), 'Ä', 'ae'), 'ö', 'oe'), 'Ö', 'oe'), 'ü', 'ue'), 'Ü', 'ue'), 'ß', 'ss'), 'ẞ', 'ss')) FROM meeting;
CREATE TRIGGER meeting_search_insert AFTER INSERT ON meeting BEGIN
    INSERT INTO meeting_search (rowid, body) VALUES (new.rowid, lower(replace(replace(replace(replace(replace(replace(replace(replace(COALESCE(new.name, '') || ' ' || COALESCE(new.location, ''), 'ä', 'ae'), 'Ä', 'ae'), 'ö', 'oe'), 'Ö', 'oe'), 'ü', 'ue'), 'Ü', 'ue'), 'ß', 'ss'), 'ẞ', 'ss')));
END;
CREATE TRIGGER meeting_search_update AFTER UPDATE OF name, location ON meeting BEGIN
    DELETE FROM meeting_search WHERE rowid = old.rowid;
    INSERT INTO meeting_search (rowid, body) VALUES (new.rowid, lower(replace(replace(replace(replace(replace(replace(replace(replace(COALESCE(new.name, '') || ' ' || COALESCE(new.location, ''), 'ä', 'ae'), 'Ä', 'ae'), 'ö', 'oe'), 'Ö', 'oe'), 'ü', 'ue'), 'Ü', 'ue'), 'ß', 'ss'), 'ẞ', 'ss')));
END;
CREATE TRIGGER meeting_search_delete AFTER DELETE ON meeting BEGIN
    DELETE FROM meeting_search WHERE rowid = old.rowid;
END;

CREATE VIRTUAL TABLE agenda_item_search USING fts5(body, content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2');
INSERT INTO agenda_item_search (rowid, body) SELECT rowid, lower(replace(replace(replace(replace(replace(replace(replace(replace(COALESCE(number, '') || ' ' || COALESCE(name, '') || ' ' || COALESCE(resolution_text, ''), 'ä', 'ae'), 'Ä', 'ae'), 'ö', 'oe'), 'Ö', 'oe'), 'ü', 'ue'), 'Ü', 'ue'), 'ß', 'ss'), 'ẞ', 'ss')) FROM agenda_item;
CREATE TRIGGER agenda_item_search_insert AFTER INSERT ON agenda_item BEGIN
    INSERT INTO agenda_item_search (rowid, body) VALUES (new.rowid, lower(replace(replace(replace(replace(replace(replace(replace(replace(COALESCE(new.number, '') || ' ' || COALESCE(new.name, '') || ' ' || COALESCE(new.resolution_text, ''), 'ä', 'ae'), 'Ä', 'ae'), 'ö', 'oe'), 'Ö', 'oe'), 'ü', 'ue'), 'Ü', 'ue'), 'ß', 'ss'), 'ẞ', 'ss')));
END;
CREATE TRIGGER agenda_item_search_update AFTER UPDATE OF number, name, resolution_text ON agenda_item BEGIN
    DELETE FROM agenda_item_search WHERE rowid = old.rowid;
    INSERT INTO agenda_item_search (rowid, body) VALUES (new.rowid, lower(replace(replace(replace(replace(replace(replace(replace(replace(COALESCE(new.number, '') || ' ' || COALESCE(new.name, '') || ' ' || COALESCE(new.resolution_text, ''), 'ä', 'ae'), 'Ä', 'ae'), 'ö', 'oe'), 'Ö', 'oe'), 'ü', 'ue'), 'Ü', 'ue'), 'ß', 'ss'), 'ẞ', 'ss')));
END;
CREATE TRIGGER agenda_item_search_delete AFTER DELETE ON agenda_item BEGIN
    DELETE FROM agenda_item_search WHERE rowid = old.rowid;
END;

CREATE VIRTUAL TABLE paper_search USING fts5(body, content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2');
INSERT INTO paper_search (rowid, body) SELECT rowid, lower(replace(replace(replace(replace(replace(replace(replace(replace(COALESCE(reference, '') || ' ' || COALESCE(subject, '') || ' ' || COALESCE(sachverhalt, '') || ' ' || COALESCE(beschlussvorschlag, '') || ' ' || COALESCE(begruendung, ''), 'ä', 'ae'), 'Ä', 'ae'), 'ö', 'oe'), 'Ö', 'oe'), 'ü', 'ue'), 'Ü', 'ue'), 'ß', 'ss'), 'ẞ', 'ss')) FROM paper;
CREATE TRIGGER paper_search_insert AFTER INSERT ON paper BEGIN
    INSERT INTO paper_search (rowid, body) VALUES (new.rowid, lower(replace(replace(replace(replace(replace(replace(replace(replace(COALESCE(new.reference, '') || ' ' || COALESCE(new.subject, '') || ' ' || COALESCE(new.sachverhalt, '') || ' ' || COALESCE(new.beschlussvorschlag, '') || ' ' || COALESCE(new.begruendung, ''), 'ä', 'ae'), 'Ä', 'ae'), 'ö', 'oe'), 'Ö', 'oe'), 'ü', 'ue'), 'Ü', 'ue'), 'ß', 'ss'), 'ẞ', 'ss')));
END;
CREATE TRIGGER paper_search_update AFTER UPDATE OF reference, subject, sachverhalt, beschlussvorschlag, begruendung ON paper BEGIN
    DELETE FROM paper_search WHERE rowid = old.rowid;
    INSERT INTO paper_search (rowid, body) VALUES (new.rowid, lower(replace(replace(replace(replace(replace(replace(replace(replace(COALESCE(new.reference, '') || ' ' || COALESCE(new.subject, '') || ' ' || COALESCE(new.sachverhalt, '') || ' ' || COALESCE(new.beschlussvorschlag, '') || ' ' || COALESCE(new.begruendung, ''), 'ä', 'ae'), 'Ä', 'ae'), 'ö', 'oe'), 'Ö', 'oe'), 'ü', 'ue'), 'Ü', 'ue'), 'ß', 'ss'), 'ẞ', 'ss')));
END;
CREATE TRIGGER paper_search_delete AFTER DELETE ON paper BEGIN
    DELETE FROM paper_search WHERE rowid = old.rowid;
END;

CREATE VIRTUAL TABLE consultation_search USING fts5(body, content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2');
INSERT INTO consultation_search (rowid, body) SELECT rowid, lower(replace(replace(replace(replace(replace(replace(replace(replace(COALESCE(organization_name, '') || ' ' || COALESCE(role, '') || ' ' || COALESCE(result_text, ''), 'ä', 'ae'), 'Ä', 'ae'), 'ö', 'oe'), 'Ö', 'oe'), 'ü', 'ue'), 'Ü', 'ue'), 'ß', 'ss'), 'ẞ', 'ss')) FROM consultation;
CREATE TRIGGER consultation_search_insert AFTER INSERT ON consultation BEGIN
    INSERT INTO consultation_search (rowid, body) VALUES (new.rowid, lower(replace(replace(replace(replace(replace(replace(replace(replace(COALESCE(new.organization_name, '') || ' ' || COALESCE(new.role, '') || ' ' || COALESCE(new.result_text, ''), 'ä', 'ae'), 'Ä', 'ae'), 'ö', 'oe'), 'Ö', 'oe'), 'ü', 'ue'), 'Ü', 'ue'), 'ß', 'ss'), 'ẞ', 'ss')));
END;
CREATE TRIGGER consultation_search_update AFTER UPDATE OF organization_name, role, result_text ON consultation BEGIN
    DELETE FROM consultation_search WHERE rowid = old.rowid;
    INSERT INTO consultation_search (rowid, body) VALUES (new.rowid, lower(replace(replace(replace(replace(replace(replace(replace(replace(COALESCE(new.organization_name, '') || ' ' || COALESCE(new.role, '') || ' ' || COALESCE(new.result_text, ''), 'ä', 'ae'), 'Ä', 'ae'), 'ö', 'oe'), 'Ö', 'oe'), 'ü', 'ue'), 'Ü', 'ue'), 'ß', 'ss'), 'ẞ', 'ss')));
END;
CREATE TRIGGER consultation_search_delete AFTER DELETE ON consultation BEGIN
    DELETE FROM consultation_search WHERE rowid = old.rowid;
END;

CREATE VIRTUAL TABLE file_search USING fts5(body, content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2');
INSERT INTO file_search (rowid, body) SELECT rowid, lower(replace(replace(replace(replace(replace(replace(replace(replace(COALESCE(name, ''), 'ä', 'ae'), 'Ä', 'ae'), 'ö', 'oe'), 'Ö', 'oe'), 'ü', 'ue'), 'Ü', 'ue'), 'ß', 'ss'), 'ẞ', 'ss')) FROM file;
CREATE TRIGGER file_search_insert AFTER INSERT ON file BEGIN
    INSERT INTO file_search (rowid, body) VALUES (new.rowid, lower(replace(replace(replace(replace(replace(replace(replace(replace(COALESCE(new.name, ''), 'ä', 'ae'), 'Ä', 'ae'), 'ö', 'oe'), 'Ö', 'oe'), 'ü', 'ue'), 'Ü', 'ue'), 'ß', 'ss'), 'ẞ', 'ss')));
END;
CREATE TRIGGER file_search_update AFTER UPDATE OF name ON file BEGIN
    DELETE FROM file_search WHERE rowid = old.rowid;
    INSERT INTO file_search (rowid, body) VALUES (new.rowid, lower(replace(replace(replace(replace(replace(replace(replace(replace(COALESCE(new.name, ''), 'ä', 'ae'), 'Ä', 'ae'), 'ö', 'oe'), 'Ö', 'oe'), 'ü', 'ue'), 'Ü', 'ue'), 'ß', 'ss'), 'ẞ', 'ss')));
END;
CREATE TRIGGER file_search_delete AFTER DELETE ON file BEGIN
    DELETE FROM file_search WHERE rowid = old.rowid;
END;

CREATE VIRTUAL TABLE school_search USING fts5(body, content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2');
INSERT INTO school_search (rowid, body) SELECT rowid, lower(replace(replace(replace(replace(replace(replace(replace(replace(COALESCE(name, '') || ' ' || COALESCE(city, ''), 'ä', 'ae'), 'Ä', 'ae'), 'ö', 'oe'), 'Ö', 'oe'), 'ü', 'ue'), 'Ü', 'ue'), 'ß', 'ss'), 'ẞ', 'ss')) FROM school;
CREATE TRIGGER school_search_insert AFTER INSERT ON school BEGIN
    INSERT INTO school_search (rowid, body) VALUES (new.rowid, lower(replace(replace(replace(replace(replace(replace(replace(replace(COALESCE(new.name, '') || ' ' || COALESCE(new.city, ''), 'ä', 'ae'), 'Ä', 'ae'), 'ö', 'oe'), 'Ö', 'oe'), 'ü', 'ue'), 'Ü', 'ue'), 'ß', 'ss'), 'ẞ', 'ss')));
END;
CREATE TRIGGER school_search_update AFTER UPDATE OF name, city ON school BEGIN
    DELETE FROM school_search WHERE rowid = old.rowid;
    INSERT INTO school_search (rowid, body) VALUES (new.rowid, lower(replace(replace(replace(replace(replace(replace(replace(replace(COALESCE(new.name, '') || ' ' || COALESCE(new.city, ''), 'ä', 'ae'), 'Ä', 'ae'), 'ö', 'oe'), 'Ö', 'oe'), 'ü', 'ue'), 'Ü', 'ue'), 'ß', 'ss'), 'ẞ', 'ss')));
END;
CREATE TRIGGER school_search_delete AFTER DELETE ON school BEGIN
    DELETE FROM school_search WHERE rowid = old.rowid;
END;

CREATE VIRTUAL TABLE funding_program_search USING fts5(body, content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2');
INSERT INTO funding_program_search (rowid, body) SELECT rowid, lower(replace(replace(replace(replace(replace(replace(replace(replace(COALESCE(name, '') || ' ' || COALESCE(legal_basis, ''), 'ä', 'ae'), 'Ä', 'ae'), 'ö', 'oe'), 'Ö', 'oe'), 'ü', 'ue'), 'Ü', 'ue'), 'ß', 'ss'), 'ẞ', 'ss')) FROM funding_program;
CREATE TRIGGER funding_program_search_insert AFTER INSERT ON funding_program BEGIN
    INSERT INTO funding_program_search (rowid, body) VALUES (new.rowid, lower(replace(replace(replace(replace(replace(replace(replace(replace(COALESCE(new.name, '') || ' ' || COALESCE(new.legal_basis, ''), 'ä', 'ae'), 'Ä', 'ae'), 'ö', 'oe'), 'Ö', 'oe'), 'ü', 'ue'), 'Ü', 'ue'), 'ß', 'ss'), 'ẞ', 'ss')));
END;
CREATE TRIGGER funding_program_search_update AFTER UPDATE OF name, legal_basis ON funding_program BEGIN
    DELETE FROM funding_program_search WHERE rowid = old.rowid;
    INSERT INTO funding_program_search (rowid, body) VALUES (new.rowid, lower(replace(replace(replace(replace(replace(replace(replace(replace(COALESCE(new.name, '') || ' ' || COALESCE(new.legal_basis, ''), 'ä', 'ae'), 'Ä', 'ae'), 'ö', 'oe'), 'Ö', 'oe'), 'ü', 'ue'), 'Ü', 'ue'), 'ß', 'ss'), 'ẞ', 'ss')));
END;
CREATE TRIGGER funding_program_search_delete AFTER DELETE ON funding_program BEGIN
    DELETE FROM funding_program_search WHERE rowid = old.rowid;
END;

CREATE VIRTUAL TABLE funding_application_search USING fts5(body, content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2');
INSERT INTO funding_application_search (rowid, body) SELECT rowid, lower(replace(replace(replace(replace(replace(replace(replace(replace(COALESCE(reference, '') || ' ' || COALESCE(title, '') || ' ' || COALESCE(recipient_name, ''), 'ä', 'ae'), 'Ä', 'ae'), 'ö', 'oe'), 'Ö', 'oe'), 'ü', 'ue'), 'Ü', 'ue'), 'ß', 'ss'), 'ẞ', 'ss')) FROM funding_application;
CREATE TRIGGER funding_application_search_insert AFTER INSERT ON funding_application BEGIN
    INSERT INTO funding_application_search (rowid, body) VALUES (new.rowid, lower(replace(replace(replace(replace(replace(replace(replace(replace(COALESCE(new.reference, '') || ' ' || COALESCE(new.title, '') || ' ' || COALESCE(new.recipient_name, ''), 'ä', 'ae'), 'Ä', 'ae'), 'ö', 'oe'), 'Ö', 'oe'), 'ü', 'ue'), 'Ü', 'ue'), 'ß', 'ss'), 'ẞ', 'ss')));
END;
CREATE TRIGGER funding_application_search_update AFTER UPDATE OF reference, title, recipient_name ON funding_application BEGIN
    DELETE FROM funding_application_search WHERE rowid = old.rowid;
    INSERT INTO funding_application_search (rowid, body) VALUES (new.rowid, lower(replace(replace(replace(replace(replace(replace(replace(replace(COALESCE(new.reference, '') || ' ' || COALESCE(new.title, '') || ' ' || COALESCE(new.recipient_name, ''), 'ä', 'ae'), 'Ä', 'ae'), 'ö', 'oe'), 'Ö', 'oe'), 'ü', 'ue'), 'Ü', 'ue'), 'ß', 'ss'), 'ẞ', 'ss')));
END;
CREATE TRIGGER funding_application_search_delete AFTER DELETE ON funding_application BEGIN
    DELETE FROM funding_application_search WHERE rowid = old.rowid;
END;

-- Sort indexes: keyset pages order by (field, id); nullable fields by (field IS NULL, field, id) so NULLs come
-- last on both backends. A composite index replaces a single-column one on the same field. (traeger_partner, id)
-- serves the common "schools of one Schulträger" filter in id order without sorting.

CREATE INDEX organization_sort_name ON organization (name, id);
DROP INDEX meeting_start_at;
CREATE INDEX meeting_sort_start_at ON meeting ((start_at IS NULL), start_at, id);
CREATE INDEX meeting_sort_name ON meeting (name, id);
CREATE INDEX agenda_item_sort_position ON agenda_item ((position IS NULL), position, id);
DROP INDEX paper_date;
CREATE INDEX paper_sort_date ON paper ((date IS NULL), date, id);
DROP INDEX paper_reference;
CREATE INDEX paper_sort_reference ON paper ((reference IS NULL), reference, id);
DROP INDEX consultation_date;
CREATE INDEX consultation_sort_date ON consultation ((date IS NULL), date, id);
DROP INDEX school_name;
CREATE INDEX school_sort_name ON school (name, id);
DROP INDEX school_school_number;
CREATE INDEX school_sort_school_number ON school (school_number, id);
DROP INDEX school_traeger_partner;
CREATE INDEX school_sort_traeger_partner ON school (traeger_partner, id);
CREATE INDEX funding_budget_sort_amount_cents ON funding_budget (amount_cents, id);
DROP INDEX funding_application_reference;
CREATE INDEX funding_application_sort_reference ON funding_application (reference, id);
CREATE INDEX funding_application_sort_submitted_on ON funding_application ((submitted_on IS NULL), submitted_on, id);
