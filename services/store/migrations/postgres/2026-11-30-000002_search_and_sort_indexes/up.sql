-- Full-text search and the indexes behind `sort`.
--
-- Search text is the entity's searchable columns, joined and folded like `queries::fold` (umlauts and ß spelled
-- out: ä → ae, ö → oe, ü → ue, ß → ss; lower case), so "Schultraeger", "SCHULTRÄGER" and "Schulträger" index alike.

-- PostgreSQL: a generated tsvector column `search` per entity with a GIN index. It holds the text under both the
-- German configuration (stemmed: "Schulen" finds "Schule") and the simple one (every word as written, stop words
-- too), so a prefix query matches either form. ASCII punctuation becomes a space first: the parser would otherwise
-- keep "SG/256/19" as one path token, while queries split it into words.

ALTER TABLE organization ADD COLUMN search tsvector GENERATED ALWAYS AS (
    to_tsvector('german', regexp_replace(lower(replace(replace(replace(replace(replace(replace(replace(replace(COALESCE(name, '') || ' ' || COALESCE(short_name, ''), 'ä', 'ae'), 'Ä', 'ae'), 'ö', 'oe'), 'Ö', 'oe'), 'ü', 'ue'), 'Ü', 'ue'), 'ß', 'ss'), 'ẞ', 'ss')), '[[:punct:]]+', ' ', 'g'))
    || to_tsvector('simple', regexp_replace(lower(replace(replace(replace(replace(replace(replace(replace(replace(COALESCE(name, '') || ' ' || COALESCE(short_name, ''), 'ä', 'ae'), 'Ä', 'ae'), 'ö', 'oe'), 'Ö', 'oe'), 'ü', 'ue'), 'Ü', 'ue'), 'ß', 'ss'), 'ẞ', 'ss')), '[[:punct:]]+', ' ', 'g'))
) STORED;
CREATE INDEX organization_search ON organization USING GIN (search);

ALTER TABLE meeting ADD COLUMN search tsvector GENERATED ALWAYS AS (
    to_tsvector('german', regexp_replace(lower(replace(replace(replace(replace(replace(replace(replace(replace(COALESCE(name, '') || ' ' || COALESCE(location, ''), 'ä', 'ae'), 'Ä', 'ae'), 'ö', 'oe'), 'Ö', 'oe'), 'ü', 'ue'), 'Ü', 'ue'), 'ß', 'ss'), 'ẞ', 'ss')), '[[:punct:]]+', ' ', 'g'))
    || to_tsvector('simple', regexp_replace(lower(replace(replace(replace(replace(replace(replace(replace(replace(COALESCE(name, '') || ' ' || COALESCE(location, ''), 'ä', 'ae'), 'Ä', 'ae'), 'ö', 'oe'), 'Ö', 'oe'), 'ü', 'ue'), 'Ü', 'ue'), 'ß', 'ss'), 'ẞ', 'ss')), '[[:punct:]]+', ' ', 'g'))
) STORED;
CREATE INDEX meeting_search ON meeting USING GIN (search);

ALTER TABLE agenda_item ADD COLUMN search tsvector GENERATED ALWAYS AS (
    to_tsvector('german', regexp_replace(lower(replace(replace(replace(replace(replace(replace(replace(replace(COALESCE(number, '') || ' ' || COALESCE(name, '') || ' ' || COALESCE(resolution_text, ''), 'ä', 'ae'), 'Ä', 'ae'), 'ö', 'oe'), 'Ö', 'oe'), 'ü', 'ue'), 'Ü', 'ue'), 'ß', 'ss'), 'ẞ', 'ss')), '[[:punct:]]+', ' ', 'g'))
    || to_tsvector('simple', regexp_replace(lower(replace(replace(replace(replace(replace(replace(replace(replace(COALESCE(number, '') || ' ' || COALESCE(name, '') || ' ' || COALESCE(resolution_text, ''), 'ä', 'ae'), 'Ä', 'ae'), 'ö', 'oe'), 'Ö', 'oe'), 'ü', 'ue'), 'Ü', 'ue'), 'ß', 'ss'), 'ẞ', 'ss')), '[[:punct:]]+', ' ', 'g'))
) STORED;
CREATE INDEX agenda_item_search ON agenda_item USING GIN (search);

ALTER TABLE paper ADD COLUMN search tsvector GENERATED ALWAYS AS (
    to_tsvector('german', regexp_replace(lower(replace(replace(replace(replace(replace(replace(replace(replace(COALESCE(reference, '') || ' ' || COALESCE(subject, '') || ' ' || COALESCE(sachverhalt, '') || ' ' || COALESCE(beschlussvorschlag, '') || ' ' || COALESCE(begruendung, ''), 'ä', 'ae'), 'Ä', 'ae'), 'ö', 'oe'), 'Ö', 'oe'), 'ü', 'ue'), 'Ü', 'ue'), 'ß', 'ss'), 'ẞ', 'ss')), '[[:punct:]]+', ' ', 'g'))
    || to_tsvector('simple', regexp_replace(lower(replace(replace(replace(replace(replace(replace(replace(replace(COALESCE(reference, '') || ' ' || COALESCE(subject, '') || ' ' || COALESCE(sachverhalt, '') || ' ' || COALESCE(beschlussvorschlag, '') || ' ' || COALESCE(begruendung, ''), 'ä', 'ae'), 'Ä', 'ae'), 'ö', 'oe'), 'Ö', 'oe'), 'ü', 'ue'), 'Ü', 'ue'), 'ß', 'ss'), 'ẞ', 'ss')), '[[:punct:]]+', ' ', 'g'))
) STORED;
CREATE INDEX paper_search ON paper USING GIN (search);

ALTER TABLE consultation ADD COLUMN search tsvector GENERATED ALWAYS AS (
    to_tsvector('german', regexp_replace(lower(replace(replace(replace(replace(replace(replace(replace(replace(COALESCE(organization_name, '') || ' ' || COALESCE(role, '') || ' ' || COALESCE(result_text, ''), 'ä', 'ae'), 'Ä', 'ae'), 'ö', 'oe'), 'Ö', 'oe'), 'ü', 'ue'), 'Ü', 'ue'), 'ß', 'ss'), 'ẞ', 'ss')), '[[:punct:]]+', ' ', 'g'))
    || to_tsvector('simple', regexp_replace(lower(replace(replace(replace(replace(replace(replace(replace(replace(COALESCE(organization_name, '') || ' ' || COALESCE(role, '') || ' ' || COALESCE(result_text, ''), 'ä', 'ae'), 'Ä', 'ae'), 'ö', 'oe'), 'Ö', 'oe'), 'ü', 'ue'), 'Ü', 'ue'), 'ß', 'ss'), 'ẞ', 'ss')), '[[:punct:]]+', ' ', 'g'))
) STORED;
CREATE INDEX consultation_search ON consultation USING GIN (search);

ALTER TABLE file ADD COLUMN search tsvector GENERATED ALWAYS AS (
    to_tsvector('german', regexp_replace(lower(replace(replace(replace(replace(replace(replace(replace(replace(COALESCE(name, ''), 'ä', 'ae'), 'Ä', 'ae'), 'ö', 'oe'), 'Ö', 'oe'), 'ü', 'ue'), 'Ü', 'ue'), 'ß', 'ss'), 'ẞ', 'ss')), '[[:punct:]]+', ' ', 'g'))
    || to_tsvector('simple', regexp_replace(lower(replace(replace(replace(replace(replace(replace(replace(replace(COALESCE(name, ''), 'ä', 'ae'), 'Ä', 'ae'), 'ö', 'oe'), 'Ö', 'oe'), 'ü', 'ue'), 'Ü', 'ue'), 'ß', 'ss'), 'ẞ', 'ss')), '[[:punct:]]+', ' ', 'g'))
) STORED;
CREATE INDEX file_search ON file USING GIN (search);

ALTER TABLE school ADD COLUMN search tsvector GENERATED ALWAYS AS (
    to_tsvector('german', regexp_replace(lower(replace(replace(replace(replace(replace(replace(replace(replace(COALESCE(name, '') || ' ' || COALESCE(city, ''), 'ä', 'ae'), 'Ä', 'ae'), 'ö', 'oe'), 'Ö', 'oe'), 'ü', 'ue'), 'Ü', 'ue'), 'ß', 'ss'), 'ẞ', 'ss')), '[[:punct:]]+', ' ', 'g'))
    || to_tsvector('simple', regexp_replace(lower(replace(replace(replace(replace(replace(replace(replace(replace(COALESCE(name, '') || ' ' || COALESCE(city, ''), 'ä', 'ae'), 'Ä', 'ae'), 'ö', 'oe'), 'Ö', 'oe'), 'ü', 'ue'), 'Ü', 'ue'), 'ß', 'ss'), 'ẞ', 'ss')), '[[:punct:]]+', ' ', 'g'))
) STORED;
CREATE INDEX school_search ON school USING GIN (search);

ALTER TABLE funding_program ADD COLUMN search tsvector GENERATED ALWAYS AS (
    to_tsvector('german', regexp_replace(lower(replace(replace(replace(replace(replace(replace(replace(replace(COALESCE(name, '') || ' ' || COALESCE(legal_basis, ''), 'ä', 'ae'), 'Ä', 'ae'), 'ö', 'oe'), 'Ö', 'oe'), 'ü', 'ue'), 'Ü', 'ue'), 'ß', 'ss'), 'ẞ', 'ss')), '[[:punct:]]+', ' ', 'g'))
    || to_tsvector('simple', regexp_replace(lower(replace(replace(replace(replace(replace(replace(replace(replace(COALESCE(name, '') || ' ' || COALESCE(legal_basis, ''), 'ä', 'ae'), 'Ä', 'ae'), 'ö', 'oe'), 'Ö', 'oe'), 'ü', 'ue'), 'Ü', 'ue'), 'ß', 'ss'), 'ẞ', 'ss')), '[[:punct:]]+', ' ', 'g'))
) STORED;
CREATE INDEX funding_program_search ON funding_program USING GIN (search);

ALTER TABLE funding_application ADD COLUMN search tsvector GENERATED ALWAYS AS (
    to_tsvector('german', regexp_replace(lower(replace(replace(replace(replace(replace(replace(replace(replace(COALESCE(reference, '') || ' ' || COALESCE(title, '') || ' ' || COALESCE(recipient_name, ''), 'ä', 'ae'), 'Ä', 'ae'), 'ö', 'oe'), 'Ö', 'oe'), 'ü', 'ue'), 'Ü', 'ue'), 'ß', 'ss'), 'ẞ', 'ss')), '[[:punct:]]+', ' ', 'g'))
    || to_tsvector('simple', regexp_replace(lower(replace(replace(replace(replace(replace(replace(replace(replace(COALESCE(reference, '') || ' ' || COALESCE(title, '') || ' ' || COALESCE(recipient_name, ''), 'ä', 'ae'), 'Ä', 'ae'), 'ö', 'oe'), 'Ö', 'oe'), 'ü', 'ue'), 'Ü', 'ue'), 'ß', 'ss'), 'ẞ', 'ss')), '[[:punct:]]+', ' ', 'g'))
) STORED;
CREATE INDEX funding_application_search ON funding_application USING GIN (search);

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
