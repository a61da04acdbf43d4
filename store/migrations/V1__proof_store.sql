-- The proof store: one row per collect (run), one per page kept, one per proof row. A page is
-- written once in one transaction with its rows; a retried activity finds it and writes nothing.

CREATE TABLE runs (
    run_id        TEXT PRIMARY KEY,
    tenant        TEXT NOT NULL,
    platform      TEXT NOT NULL,
    api_url       TEXT,
    proof_type    TEXT NOT NULL,
    criteria      JSONB NOT NULL,
    -- What the proof writer needs to write the proof again: title, fields, key, collected_at.
    meta          JSONB NOT NULL,
    -- running | complete | failed
    state         TEXT NOT NULL DEFAULT 'running',
    error_kind    TEXT,
    error         TEXT,
    pages         BIGINT NOT NULL DEFAULT 0,
    row_count     BIGINT NOT NULL DEFAULT 0,
    requests      BIGINT NOT NULL DEFAULT 0,
    criteria_applied JSONB,
    provenance    JSONB,
    sha256        TEXT,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at   TIMESTAMPTZ
);

CREATE TABLE pages (
    run_id       TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    seq          BIGINT NOT NULL,
    cursor_in    TEXT,
    next_cursor  TEXT,
    row_count    BIGINT NOT NULL,
    requests     BIGINT NOT NULL,
    warnings     JSONB NOT NULL,
    -- SHA-256 of the page's canonical rows, as a JSON array.
    sha256       TEXT NOT NULL,
    written_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, seq)
);

CREATE TABLE proof_rows (
    run_id  TEXT NOT NULL,
    seq     BIGINT NOT NULL,
    idx     INTEGER NOT NULL,
    -- The canonical row (compact JSON, keys in field order): the bytes the proof's digest
    -- covers; `row::jsonb` for SQL.
    row     TEXT NOT NULL,
    PRIMARY KEY (run_id, seq, idx),
    FOREIGN KEY (run_id, seq) REFERENCES pages (run_id, seq) ON DELETE CASCADE
);
