-- Finding state: when an agent reported a finding as no longer seen
-- (0 while it lasts), and where an offline finding came from (JSON of
-- report.FindingSource, '' for live findings).
ALTER TABLE findings ADD COLUMN ended_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE findings ADD COLUMN source TEXT NOT NULL DEFAULT '';
