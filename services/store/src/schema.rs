//! The database schema, in one place. Both backends' migrations create exactly these tables.

diesel::table! {
    partner (id) {
        id -> Text,
        name -> Text,
        kind -> Text,
        ags -> Nullable<Text>,
        aliases -> Text,
        modified_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    organization (id) {
        id -> Text,
        source -> Text,
        source_key -> Text,
        source_url -> Nullable<Text>,
        content_hash -> Text,
        first_seen_at -> Timestamp,
        last_seen_at -> Timestamp,
        modified_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
        partner -> Text,
        name -> Text,
        short_name -> Nullable<Text>,
        kind -> Text,
        start_date -> Nullable<Date>,
        end_date -> Nullable<Date>,
        web_url -> Nullable<Text>,
    }
}

diesel::table! {
    person (id) {
        id -> Text,
        source -> Text,
        source_key -> Text,
        source_url -> Nullable<Text>,
        content_hash -> Text,
        first_seen_at -> Timestamp,
        last_seen_at -> Timestamp,
        modified_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
        partner -> Text,
        name -> Text,
        family_name -> Nullable<Text>,
        given_name -> Nullable<Text>,
        title -> Nullable<Text>,
    }
}

diesel::table! {
    membership (id) {
        id -> Text,
        source -> Text,
        source_key -> Text,
        source_url -> Nullable<Text>,
        content_hash -> Text,
        first_seen_at -> Timestamp,
        last_seen_at -> Timestamp,
        modified_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
        partner -> Text,
        person_id -> Text,
        organization_id -> Nullable<Text>,
        role -> Nullable<Text>,
        voting_right -> Nullable<Bool>,
        start_date -> Nullable<Date>,
        end_date -> Nullable<Date>,
    }
}

diesel::table! {
    meeting (id) {
        id -> Text,
        source -> Text,
        source_key -> Text,
        source_url -> Nullable<Text>,
        content_hash -> Text,
        first_seen_at -> Timestamp,
        last_seen_at -> Timestamp,
        modified_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
        partner -> Text,
        organization_ids -> Text,
        name -> Text,
        start_at -> Nullable<Timestamp>,
        end_at -> Nullable<Timestamp>,
        location -> Nullable<Text>,
        state -> Nullable<Text>,
        cancelled -> Bool,
        web_url -> Nullable<Text>,
    }
}

diesel::table! {
    agenda_item (id) {
        id -> Text,
        source -> Text,
        source_key -> Text,
        source_url -> Nullable<Text>,
        content_hash -> Text,
        first_seen_at -> Timestamp,
        last_seen_at -> Timestamp,
        modified_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
        partner -> Text,
        meeting_id -> Text,
        number -> Nullable<Text>,
        position -> Nullable<Integer>,
        name -> Text,
        public -> Bool,
        result -> Nullable<Text>,
        resolution_text -> Nullable<Text>,
        paper_id -> Nullable<Text>,
    }
}

diesel::table! {
    paper (id) {
        id -> Text,
        source -> Text,
        source_key -> Text,
        source_url -> Nullable<Text>,
        content_hash -> Text,
        first_seen_at -> Timestamp,
        last_seen_at -> Timestamp,
        modified_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
        partner -> Text,
        reference -> Nullable<Text>,
        subject -> Text,
        paper_type -> Nullable<Text>,
        date -> Nullable<Date>,
        public -> Bool,
        lead_department -> Nullable<Text>,
        sachverhalt -> Nullable<Text>,
        beschlussvorschlag -> Nullable<Text>,
        finanzielle_auswirkung -> Nullable<Text>,
        begruendung -> Nullable<Text>,
        financial_impact_once_cents -> Nullable<BigInt>,
        financial_impact_annual_cents -> Nullable<BigInt>,
        web_url -> Nullable<Text>,
    }
}

diesel::table! {
    consultation (id) {
        id -> Text,
        source -> Text,
        source_key -> Text,
        source_url -> Nullable<Text>,
        content_hash -> Text,
        first_seen_at -> Timestamp,
        last_seen_at -> Timestamp,
        modified_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
        partner -> Text,
        paper_id -> Text,
        position -> Nullable<Integer>,
        organization_id -> Nullable<Text>,
        organization_name -> Nullable<Text>,
        meeting_id -> Nullable<Text>,
        date -> Nullable<Date>,
        role -> Nullable<Text>,
        authoritative -> Nullable<Bool>,
        result_text -> Nullable<Text>,
        result -> Text,
    }
}

diesel::table! {
    file (id) {
        id -> Text,
        source -> Text,
        source_key -> Text,
        source_url -> Nullable<Text>,
        content_hash -> Text,
        first_seen_at -> Timestamp,
        last_seen_at -> Timestamp,
        modified_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
        partner -> Text,
        owner_kind -> Text,
        owner_id -> Text,
        name -> Text,
        mime_type -> Nullable<Text>,
        size -> Nullable<BigInt>,
        date -> Nullable<Date>,
        access_url -> Nullable<Text>,
    }
}

diesel::table! {
    school (id) {
        id -> Text,
        source -> Text,
        source_key -> Text,
        source_url -> Nullable<Text>,
        content_hash -> Text,
        first_seen_at -> Timestamp,
        last_seen_at -> Timestamp,
        modified_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
        state -> Text,
        school_number -> Text,
        name -> Text,
        school_types_raw -> Text,
        school_types -> Text,
        legal_status -> Nullable<Text>,
        traeger_name -> Nullable<Text>,
        traeger_partner -> Nullable<Text>,
        street -> Nullable<Text>,
        postcode -> Nullable<Text>,
        city -> Nullable<Text>,
        phone -> Nullable<Text>,
        fax -> Nullable<Text>,
        email -> Nullable<Text>,
        website -> Nullable<Text>,
        pupils -> Nullable<Integer>,
        pupils_as_of -> Nullable<Date>,
        latitude -> Nullable<Double>,
        longitude -> Nullable<Double>,
    }
}

diesel::table! {
    media_concept (id) {
        id -> Text,
        source -> Text,
        source_key -> Text,
        source_url -> Nullable<Text>,
        content_hash -> Text,
        first_seen_at -> Timestamp,
        last_seen_at -> Timestamp,
        modified_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
        school_id -> Text,
        status -> Text,
        started_on -> Nullable<Date>,
        submitted_on -> Nullable<Date>,
        approved_on -> Nullable<Date>,
        version -> Nullable<Text>,
    }
}

diesel::table! {
    equipment (id) {
        id -> Text,
        source -> Text,
        source_key -> Text,
        source_url -> Nullable<Text>,
        content_hash -> Text,
        first_seen_at -> Timestamp,
        last_seen_at -> Timestamp,
        modified_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
        school_id -> Text,
        category -> Text,
        count -> BigInt,
        as_of -> Nullable<Date>,
    }
}

diesel::table! {
    funding_program (id) {
        id -> Text,
        source -> Text,
        source_key -> Text,
        source_url -> Nullable<Text>,
        content_hash -> Text,
        first_seen_at -> Timestamp,
        last_seen_at -> Timestamp,
        modified_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
        name -> Text,
        legal_basis -> Nullable<Text>,
        period_start -> Nullable<Date>,
        period_end -> Nullable<Date>,
        deadlines -> Text,
        measures -> Text,
    }
}

diesel::table! {
    funding_budget (id) {
        id -> Text,
        source -> Text,
        source_key -> Text,
        source_url -> Nullable<Text>,
        content_hash -> Text,
        first_seen_at -> Timestamp,
        last_seen_at -> Timestamp,
        modified_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
        program_id -> Text,
        partner -> Nullable<Text>,
        school_id -> Nullable<Text>,
        amount_cents -> BigInt,
        basis -> Nullable<Text>,
    }
}

diesel::table! {
    funding_application (id) {
        id -> Text,
        source -> Text,
        source_key -> Text,
        source_url -> Nullable<Text>,
        content_hash -> Text,
        first_seen_at -> Timestamp,
        last_seen_at -> Timestamp,
        modified_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
        program_id -> Text,
        reference -> Text,
        partner -> Nullable<Text>,
        recipient_name -> Nullable<Text>,
        school_ids -> Text,
        measure -> Nullable<Text>,
        title -> Nullable<Text>,
        requested_cents -> Nullable<BigInt>,
        approved_cents -> Nullable<BigInt>,
        disbursed_cents -> Nullable<BigInt>,
        status -> Text,
        submitted_on -> Nullable<Date>,
        approved_on -> Nullable<Date>,
        period_start -> Nullable<Date>,
        period_end -> Nullable<Date>,
        disbursements -> Text,
    }
}

diesel::table! {
    import_run (id) {
        id -> BigInt,
        connector -> Text,
        trigger -> Text,
        started_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
        status -> Text,
        fetched -> BigInt,
        created -> BigInt,
        updated -> BigInt,
        unchanged -> BigInt,
        deleted -> BigInt,
        rejected -> BigInt,
        error -> Nullable<Text>,
        notes -> Text,
        watermark -> Nullable<Text>,
        scheduled_for -> Nullable<Timestamp>,
    }
}

diesel::table! {
    rejected_record (id) {
        id -> BigInt,
        run_id -> BigInt,
        location -> Text,
        field -> Nullable<Text>,
        value -> Nullable<Text>,
        message -> Text,
    }
}

diesel::table! {
    /// One row: raised by every committed change of served data (see `crate::revision`).
    data_revision (id) {
        id -> Integer,
        revision -> BigInt,
    }
}

diesel::joinable!(rejected_record -> import_run (run_id));
diesel::allow_tables_to_appear_in_same_query!(import_run, rejected_record);
// A school's media concepts and equipment filtered by the school's Schulträger (a subquery on school).
diesel::allow_tables_to_appear_in_same_query!(school, media_concept, equipment);
