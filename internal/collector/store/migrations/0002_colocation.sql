-- Co-location: the fleet key agents hash their network identity with, and
-- which hosts were seen on which (hashed) network, when.
CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE host_networks (
  kind TEXT NOT NULL,
  value TEXT NOT NULL,
  host_id TEXT NOT NULL,
  first_seen BIGINT NOT NULL,
  last_seen BIGINT NOT NULL,
  PRIMARY KEY (kind, value, host_id)
);
CREATE INDEX host_networks_host ON host_networks (host_id);
