-- The unified model (see ARCHITECTURE.md). Generated for both backends from one column list; keep them in step.

CREATE TABLE partner (
    id TEXT NOT NULL PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    ags TEXT,
    aliases TEXT NOT NULL,
    modified_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP
);

CREATE TABLE organization (
    id TEXT NOT NULL PRIMARY KEY,
    source TEXT NOT NULL,
    source_key TEXT NOT NULL,
    source_url TEXT,
    content_hash TEXT NOT NULL,
    first_seen_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    modified_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP,
    partner TEXT NOT NULL,
    name TEXT NOT NULL,
    short_name TEXT,
    kind TEXT NOT NULL,
    start_date DATE,
    end_date DATE,
    web_url TEXT,
    UNIQUE (source, source_key)
);
CREATE INDEX organization_modified_at ON organization (modified_at, id);
CREATE INDEX organization_source_seen ON organization (source, last_seen_at);
CREATE INDEX organization_partner ON organization (partner);

CREATE TABLE person (
    id TEXT NOT NULL PRIMARY KEY,
    source TEXT NOT NULL,
    source_key TEXT NOT NULL,
    source_url TEXT,
    content_hash TEXT NOT NULL,
    first_seen_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    modified_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP,
    partner TEXT NOT NULL,
    name TEXT NOT NULL,
    family_name TEXT,
    given_name TEXT,
    title TEXT,
    UNIQUE (source, source_key)
);
CREATE INDEX person_modified_at ON person (modified_at, id);
CREATE INDEX person_source_seen ON person (source, last_seen_at);
CREATE INDEX person_partner ON person (partner);

CREATE TABLE membership (
    id TEXT NOT NULL PRIMARY KEY,
    source TEXT NOT NULL,
    source_key TEXT NOT NULL,
    source_url TEXT,
    content_hash TEXT NOT NULL,
    first_seen_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    modified_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP,
    partner TEXT NOT NULL,
    person_id TEXT NOT NULL,
    organization_id TEXT,
    role TEXT,
    voting_right BOOLEAN,
    start_date DATE,
    end_date DATE,
    UNIQUE (source, source_key)
);
CREATE INDEX membership_modified_at ON membership (modified_at, id);
CREATE INDEX membership_source_seen ON membership (source, last_seen_at);
CREATE INDEX membership_person_id ON membership (person_id);
CREATE INDEX membership_organization_id ON membership (organization_id);

CREATE TABLE meeting (
    id TEXT NOT NULL PRIMARY KEY,
    source TEXT NOT NULL,
    source_key TEXT NOT NULL,
    source_url TEXT,
    content_hash TEXT NOT NULL,
    first_seen_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    modified_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP,
    partner TEXT NOT NULL,
    organization_ids TEXT NOT NULL,
    name TEXT NOT NULL,
    start_at TIMESTAMP,
    end_at TIMESTAMP,
    location TEXT,
    state TEXT,
    cancelled BOOLEAN NOT NULL,
    web_url TEXT,
    UNIQUE (source, source_key)
);
CREATE INDEX meeting_modified_at ON meeting (modified_at, id);
CREATE INDEX meeting_source_seen ON meeting (source, last_seen_at);
CREATE INDEX meeting_partner ON meeting (partner);
CREATE INDEX meeting_start_at ON meeting (start_at);

CREATE TABLE agenda_item (
    id TEXT NOT NULL PRIMARY KEY,
    source TEXT NOT NULL,
    source_key TEXT NOT NULL,
    source_url TEXT,
    content_hash TEXT NOT NULL,
    first_seen_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    modified_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP,
    partner TEXT NOT NULL,
    meeting_id TEXT NOT NULL,
    number TEXT,
    position INTEGER,
    name TEXT NOT NULL,
    public BOOLEAN NOT NULL,
    result TEXT,
    resolution_text TEXT,
    paper_id TEXT,
    UNIQUE (source, source_key)
);
CREATE INDEX agenda_item_modified_at ON agenda_item (modified_at, id);
CREATE INDEX agenda_item_source_seen ON agenda_item (source, last_seen_at);
CREATE INDEX agenda_item_meeting_id ON agenda_item (meeting_id);
CREATE INDEX agenda_item_paper_id ON agenda_item (paper_id);

CREATE TABLE paper (
    id TEXT NOT NULL PRIMARY KEY,
    source TEXT NOT NULL,
    source_key TEXT NOT NULL,
    source_url TEXT,
    content_hash TEXT NOT NULL,
    first_seen_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    modified_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP,
    partner TEXT NOT NULL,
    reference TEXT,
    subject TEXT NOT NULL,
    paper_type TEXT,
    date DATE,
    public BOOLEAN NOT NULL,
    lead_department TEXT,
    sachverhalt TEXT,
    beschlussvorschlag TEXT,
    finanzielle_auswirkung TEXT,
    begruendung TEXT,
    financial_impact_once_cents BIGINT,
    financial_impact_annual_cents BIGINT,
    web_url TEXT,
    UNIQUE (source, source_key)
);
CREATE INDEX paper_modified_at ON paper (modified_at, id);
CREATE INDEX paper_source_seen ON paper (source, last_seen_at);
CREATE INDEX paper_partner ON paper (partner);
CREATE INDEX paper_date ON paper (date);
CREATE INDEX paper_reference ON paper (reference);

CREATE TABLE consultation (
    id TEXT NOT NULL PRIMARY KEY,
    source TEXT NOT NULL,
    source_key TEXT NOT NULL,
    source_url TEXT,
    content_hash TEXT NOT NULL,
    first_seen_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    modified_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP,
    partner TEXT NOT NULL,
    paper_id TEXT NOT NULL,
    position INTEGER,
    organization_id TEXT,
    organization_name TEXT,
    meeting_id TEXT,
    date DATE,
    role TEXT,
    authoritative BOOLEAN,
    result_text TEXT,
    result TEXT NOT NULL,
    UNIQUE (source, source_key)
);
CREATE INDEX consultation_modified_at ON consultation (modified_at, id);
CREATE INDEX consultation_source_seen ON consultation (source, last_seen_at);
CREATE INDEX consultation_paper_id ON consultation (paper_id);
CREATE INDEX consultation_meeting_id ON consultation (meeting_id);
CREATE INDEX consultation_organization_id ON consultation (organization_id);
CREATE INDEX consultation_date ON consultation (date);

CREATE TABLE file (
    id TEXT NOT NULL PRIMARY KEY,
    source TEXT NOT NULL,
    source_key TEXT NOT NULL,
    source_url TEXT,
    content_hash TEXT NOT NULL,
    first_seen_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    modified_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP,
    partner TEXT NOT NULL,
    owner_kind TEXT NOT NULL,
    owner_id TEXT NOT NULL,
    name TEXT NOT NULL,
    mime_type TEXT,
    size BIGINT,
    date DATE,
    access_url TEXT,
    UNIQUE (source, source_key)
);
CREATE INDEX file_modified_at ON file (modified_at, id);
CREATE INDEX file_source_seen ON file (source, last_seen_at);
CREATE INDEX file_owner_id ON file (owner_id);

CREATE TABLE school (
    id TEXT NOT NULL PRIMARY KEY,
    source TEXT NOT NULL,
    source_key TEXT NOT NULL,
    source_url TEXT,
    content_hash TEXT NOT NULL,
    first_seen_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    modified_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP,
    state TEXT NOT NULL,
    school_number TEXT NOT NULL,
    name TEXT NOT NULL,
    school_types_raw TEXT NOT NULL,
    school_types TEXT NOT NULL,
    legal_status TEXT,
    traeger_name TEXT,
    traeger_partner TEXT,
    street TEXT,
    postcode TEXT,
    city TEXT,
    phone TEXT,
    fax TEXT,
    email TEXT,
    website TEXT,
    pupils INTEGER,
    pupils_as_of DATE,
    latitude REAL,
    longitude REAL,
    UNIQUE (source, source_key)
);
CREATE INDEX school_modified_at ON school (modified_at, id);
CREATE INDEX school_source_seen ON school (source, last_seen_at);
CREATE INDEX school_traeger_partner ON school (traeger_partner);
CREATE INDEX school_school_number ON school (school_number);
CREATE INDEX school_name ON school (name);

CREATE TABLE media_concept (
    id TEXT NOT NULL PRIMARY KEY,
    source TEXT NOT NULL,
    source_key TEXT NOT NULL,
    source_url TEXT,
    content_hash TEXT NOT NULL,
    first_seen_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    modified_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP,
    school_id TEXT NOT NULL,
    status TEXT NOT NULL,
    started_on DATE,
    submitted_on DATE,
    approved_on DATE,
    version TEXT,
    UNIQUE (source, source_key)
);
CREATE INDEX media_concept_modified_at ON media_concept (modified_at, id);
CREATE INDEX media_concept_source_seen ON media_concept (source, last_seen_at);
CREATE INDEX media_concept_school_id ON media_concept (school_id);

CREATE TABLE equipment (
    id TEXT NOT NULL PRIMARY KEY,
    source TEXT NOT NULL,
    source_key TEXT NOT NULL,
    source_url TEXT,
    content_hash TEXT NOT NULL,
    first_seen_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    modified_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP,
    school_id TEXT NOT NULL,
    category TEXT NOT NULL,
    count BIGINT NOT NULL,
    as_of DATE,
    UNIQUE (source, source_key)
);
CREATE INDEX equipment_modified_at ON equipment (modified_at, id);
CREATE INDEX equipment_source_seen ON equipment (source, last_seen_at);
CREATE INDEX equipment_school_id ON equipment (school_id);

CREATE TABLE funding_program (
    id TEXT NOT NULL PRIMARY KEY,
    source TEXT NOT NULL,
    source_key TEXT NOT NULL,
    source_url TEXT,
    content_hash TEXT NOT NULL,
    first_seen_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    modified_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP,
    name TEXT NOT NULL,
    legal_basis TEXT,
    period_start DATE,
    period_end DATE,
    deadlines TEXT NOT NULL,
    measures TEXT NOT NULL,
    UNIQUE (source, source_key)
);
CREATE INDEX funding_program_modified_at ON funding_program (modified_at, id);
CREATE INDEX funding_program_source_seen ON funding_program (source, last_seen_at);

CREATE TABLE funding_budget (
    id TEXT NOT NULL PRIMARY KEY,
    source TEXT NOT NULL,
    source_key TEXT NOT NULL,
    source_url TEXT,
    content_hash TEXT NOT NULL,
    first_seen_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    modified_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP,
    program_id TEXT NOT NULL,
    partner TEXT,
    school_id TEXT,
    amount_cents BIGINT NOT NULL,
    basis TEXT,
    UNIQUE (source, source_key)
);
CREATE INDEX funding_budget_modified_at ON funding_budget (modified_at, id);
CREATE INDEX funding_budget_source_seen ON funding_budget (source, last_seen_at);
CREATE INDEX funding_budget_program_id ON funding_budget (program_id);
CREATE INDEX funding_budget_partner ON funding_budget (partner);

CREATE TABLE funding_application (
    id TEXT NOT NULL PRIMARY KEY,
    source TEXT NOT NULL,
    source_key TEXT NOT NULL,
    source_url TEXT,
    content_hash TEXT NOT NULL,
    first_seen_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    modified_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP,
    program_id TEXT NOT NULL,
    reference TEXT NOT NULL,
    partner TEXT,
    recipient_name TEXT,
    school_ids TEXT NOT NULL,
    measure TEXT,
    title TEXT,
    requested_cents BIGINT,
    approved_cents BIGINT,
    disbursed_cents BIGINT,
    status TEXT NOT NULL,
    submitted_on DATE,
    approved_on DATE,
    period_start DATE,
    period_end DATE,
    disbursements TEXT NOT NULL,
    UNIQUE (source, source_key)
);
CREATE INDEX funding_application_modified_at ON funding_application (modified_at, id);
CREATE INDEX funding_application_source_seen ON funding_application (source, last_seen_at);
CREATE INDEX funding_application_program_id ON funding_application (program_id);
CREATE INDEX funding_application_partner ON funding_application (partner);
CREATE INDEX funding_application_reference ON funding_application (reference);

-- One row per connector run; the watermark of a successful run is written in the run's own transaction.
CREATE TABLE import_run (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    connector TEXT NOT NULL,
    trigger TEXT NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    status TEXT NOT NULL,
    fetched BIGINT NOT NULL DEFAULT 0,
    created BIGINT NOT NULL DEFAULT 0,
    updated BIGINT NOT NULL DEFAULT 0,
    unchanged BIGINT NOT NULL DEFAULT 0,
    deleted BIGINT NOT NULL DEFAULT 0,
    rejected BIGINT NOT NULL DEFAULT 0,
    error TEXT,
    notes TEXT NOT NULL DEFAULT '[]',
    watermark TEXT
);
CREATE INDEX import_run_connector ON import_run (connector, id);
CREATE INDEX import_run_status ON import_run (status);

CREATE TABLE rejected_record (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id BIGINT NOT NULL REFERENCES import_run (id) ON DELETE CASCADE,
    location TEXT NOT NULL,
    field TEXT,
    value TEXT,
    message TEXT NOT NULL
);
CREATE INDEX rejected_record_run ON rejected_record (run_id, id);
