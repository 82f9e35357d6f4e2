-- MDM inventory: who each laptop is issued to and where they are expected
-- to be (docs/inventory.md). Replaced whole by each import.
CREATE TABLE inventory (
  line BIGINT NOT NULL PRIMARY KEY,
  format TEXT NOT NULL,
  serial_key TEXT NOT NULL DEFAULT '',
  name_key TEXT NOT NULL DEFAULT '',
  host_id TEXT NOT NULL DEFAULT '',
  doc TEXT NOT NULL,
  imported_at BIGINT NOT NULL
);
CREATE INDEX inventory_serial ON inventory (serial_key);
CREATE INDEX inventory_name ON inventory (name_key);
CREATE INDEX inventory_host ON inventory (host_id);

-- The configured network (with a country) each host's agent last
-- connected from.
CREATE TABLE host_egress (
  host_id TEXT NOT NULL PRIMARY KEY,
  network TEXT NOT NULL,
  country TEXT NOT NULL,
  seen_at BIGINT NOT NULL
);
