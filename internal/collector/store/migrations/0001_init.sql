-- farmwatch collector schema v1. Portable SQL shared by SQLite and
-- PostgreSQL: timestamps are BIGINT unix milliseconds (UTC), booleans are
-- INTEGER 0/1, JSON documents are TEXT.
CREATE TABLE hosts (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL DEFAULT '',
  agent_version TEXT NOT NULL DEFAULT '',
  credential_hash TEXT,
  enrolled_at BIGINT NOT NULL DEFAULT 0,
  first_seen BIGINT NOT NULL,
  last_seen BIGINT NOT NULL,
  last_heartbeat BIGINT NOT NULL DEFAULT 0,
  last_heartbeat_seq BIGINT NOT NULL DEFAULT -1,
  heartbeat_interval BIGINT NOT NULL DEFAULT 0,
  last_event TEXT NOT NULL DEFAULT '',
  heartbeat TEXT NOT NULL DEFAULT '',
  risk_score INTEGER NOT NULL DEFAULT 0,
  risk_explanation TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX hosts_credential ON hosts (credential_hash);

CREATE TABLE events (
  host_id TEXT NOT NULL,
  seq BIGINT NOT NULL,
  kind TEXT NOT NULL,
  received_at BIGINT NOT NULL,
  observed_at BIGINT NOT NULL,
  finding_id TEXT NOT NULL DEFAULT '',
  payload TEXT NOT NULL,
  PRIMARY KEY (host_id, seq)
);
CREATE INDEX events_host_observed ON events (host_id, observed_at);

CREATE TABLE findings (
  host_id TEXT NOT NULL,
  id TEXT NOT NULL,
  detector TEXT NOT NULL,
  rule TEXT NOT NULL,
  category TEXT NOT NULL,
  tool TEXT NOT NULL,
  severity INTEGER NOT NULL,
  confidence DOUBLE PRECISION NOT NULL,
  allowed INTEGER NOT NULL,
  summary TEXT NOT NULL,
  evidence TEXT NOT NULL,
  first_seen BIGINT NOT NULL,
  last_seen BIGINT NOT NULL,
  count BIGINT NOT NULL,
  status TEXT NOT NULL DEFAULT 'open',
  opened_at BIGINT NOT NULL DEFAULT 0,
  closed_at BIGINT NOT NULL DEFAULT 0,
  closed_by TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (host_id, id)
);

CREATE TABLE indicators (
  kind TEXT NOT NULL,
  value TEXT NOT NULL,
  host_id TEXT NOT NULL,
  finding_id TEXT NOT NULL,
  first_seen BIGINT NOT NULL,
  last_seen BIGINT NOT NULL,
  PRIMARY KEY (kind, value, host_id)
);

CREATE TABLE alerts (
  id TEXT PRIMARY KEY,
  dedup_key TEXT NOT NULL,
  kind TEXT NOT NULL,
  severity INTEGER NOT NULL,
  category TEXT NOT NULL DEFAULT '',
  tool TEXT NOT NULL DEFAULT '',
  title TEXT NOT NULL,
  detail TEXT NOT NULL DEFAULT '',
  hosts TEXT NOT NULL DEFAULT '[]',
  status TEXT NOT NULL DEFAULT 'open',
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  acked_by TEXT NOT NULL DEFAULT '',
  closed_by TEXT NOT NULL DEFAULT '',
  delivery TEXT NOT NULL DEFAULT 'pending',
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt BIGINT NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX alerts_open_key ON alerts (dedup_key) WHERE status <> 'closed';
CREATE INDEX alerts_delivery ON alerts (delivery, next_attempt);
CREATE INDEX alerts_status ON alerts (status, created_at);

CREATE TABLE users (
  name TEXT PRIMARY KEY,
  password_hash TEXT NOT NULL,
  created_at BIGINT NOT NULL
);

CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY,
  user_name TEXT NOT NULL,
  csrf TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);

CREATE TABLE api_tokens (
  token_hash TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  created_at BIGINT NOT NULL
);
