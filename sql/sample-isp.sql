-- =====================================================================
-- postern sample data: an ISP moving customer domains to the new platform
--
-- Load after the schema, on its own or after sample-school.sql (both
-- samples fit into one database):
--     mariadb postern < sql/sample-isp.sql
--
--   kunde1.example      local, fully migrated; alias domain kunde-eins.example
--   kunde2.example      local, migration in progress (some mailboxes still
--                       'legacy'), catch-all, own outbound relay host
--   kunde3.example      relay domain: accepted here, passed on to the
--                       customer's own server
--   kunde4.example      legacy domain: not migrated at all, everything goes
--                       to the old platform
--   kunde5.example      local, all mailboxes still 'legacy', routed to a
--                       second legacy cluster; catch-all to an external box
--   kunde6.example      relay domain reached over a private address, with a
--                       transports row instead of domains.transport
-- Mailboxes are spread over the volumes vol01 ... vol04.
-- =====================================================================

SET NAMES utf8mb4;

INSERT INTO domains (name, kind, transport, legacy_transport, relayhost, default_quota_bytes, dkim_selector, description) VALUES
  ('kunde1.example', 'local',  NULL, NULL, NULL, 2147483648, 'isp2025', 'Kunde 1 GmbH, 5 GB package'),
  ('kunde2.example', 'local',  NULL, NULL, '[smtp.kunde2-provider.example]:587', 1073741824, NULL, 'Kunde 2 e.V., migrating'),
  ('kunde3.example', 'relay',  'relay:[mx.kunde3.example]:25', NULL, NULL, NULL, NULL, 'Kunde 3 AG runs its own Exchange; we are the MX'),
  ('kunde4.example', 'legacy', 'smtp:[legacy.isp.example]:25', NULL, NULL, NULL, NULL, 'not migrated yet'),
  ('kunde5.example', 'local',  NULL, 'smtp:[legacy2.isp.example]:25', NULL, 1073741824, NULL, 'on the second legacy cluster'),
  ('kunde6.example', 'relay',  'relay:[mx.kunde6.example]:25', NULL, NULL, NULL, NULL, 'relay; the transports row below overrides the next hop');
INSERT INTO domains (name, kind, alias_target, description) VALUES
  ('kunde-eins.example', 'alias', 'kunde1.example', 'old brand of Kunde 1');

INSERT INTO mailboxes (local_part, domain, display_name, quota_bytes, volume, migration_state, password_hash) VALUES
  ('info',        'kunde1.example', 'Kunde 1 Info',      NULL,        'vol01', 'migrated', NULL),
  ('chef',        'kunde1.example', 'Karl Kunde',        5368709120,  'vol02', 'migrated', NULL),
  ('buchhaltung', 'kunde1.example', 'Buchhaltung',       NULL,        'vol03', 'migrated', NULL),
  ('archiv',      'kunde1.example', 'Archiv',            0,           'vol04', 'migrated', NULL),
  ('info',        'kunde2.example', 'Kunde 2 Info',      NULL,        'vol01', 'migrated',
       '{SHA512-CRYPT}$6$rounds=5000$examplesalt$5CdmzU0GJpCLDUBe9cAIG5QEaJ5pcOQcwfDfBTE5.6JPDPBYavcUdjCuojrZlb4OnZ8Oc5g/FC73DdCbEsq/3.'),
  ('vorstand',    'kunde2.example', 'Vorstand',          NULL,        'vol02', 'legacy',   NULL),
  ('kasse',       'kunde2.example', 'Kasse',             NULL,        'vol03', 'legacy',   NULL),
  ('m.meier',     'kunde2.example', 'Maria Meier',       NULL,        'vol04', 'migrated', NULL),
  ('kontakt',     'kunde5.example', 'Kontakt',           NULL,        'vol02', 'legacy',   NULL),
  ('versand',     'kunde5.example', 'Versand',           NULL,        'vol03', 'legacy',   NULL),
  -- a mailbox with its own transport: a test box delivered to a lab server
  ('test',        'kunde1.example', 'Testpostfach',      104857600,   'vol04', 'migrated', NULL);
UPDATE mailboxes SET transport = 'smtp:[lab.isp.example]:2525' WHERE address = 'test@kunde1.example';

INSERT INTO aliases (domain, local_part, target, keep_copy, comment) VALUES
  ('kunde1.example', 'postmaster', 'info@kunde1.example',            0, NULL),
  ('kunde1.example', 'rechnung',   'buchhaltung@kunde1.example',     0, NULL),
  ('kunde1.example', 'rechnung',   'chef@kunde1.example',            0, 'two targets'),
  ('kunde1.example', 'chef',       'karl.kunde@mobil-mail.example',  1, 'forward with copy'),
  ('kunde2.example', 'postmaster', 'info@kunde2.example',            0, NULL),
  ('kunde2.example', NULL,         'info@kunde2.example',            0, 'catch-all'),
  ('kunde5.example', NULL,         'kunde5@external-mail.example',   0, 'catch-all to an external mailbox'),
  -- an alias on a relay domain: rewritten before relaying
  ('kunde3.example', 'webmaster',  'it@kunde3.example',              0, NULL);

-- Routes.  The defaults are added only if none exist yet (the school
-- sample may already have set them).
INSERT INTO transports (match_type, pattern, purpose, transport, comment)
  SELECT 'default', '', 'delivery', 'relay:[smarthost.isp.example]:587', 'outbound smarthost'
  WHERE NOT EXISTS (SELECT 1 FROM transports WHERE match_type = 'default' AND purpose = 'delivery');
INSERT INTO transports (match_type, pattern, purpose, transport, comment)
  SELECT 'default', '', 'local', 'postern-lda:', 'local delivery'
  WHERE NOT EXISTS (SELECT 1 FROM transports WHERE match_type = 'default' AND purpose = 'local');
INSERT INTO transports (match_type, pattern, purpose, transport, comment)
  SELECT 'default', '', 'legacy', 'smtp:[legacy.isp.example]:25', 'default legacy platform'
  WHERE NOT EXISTS (SELECT 1 FROM transports WHERE match_type = 'default' AND purpose = 'legacy');
INSERT INTO transports (match_type, pattern, purpose, transport, comment) VALUES
  ('domain',  'kunde6.example',           'delivery', 'relay:[10.20.30.40]:25',       'kunde6 over the VPN'),
  ('domain',  'kunde2.example',           'legacy',   'lmtp:[legacy-lmtp.isp.example]:24', 'kunde2''s unmigrated mailboxes (domains.legacy_transport would do the same)'),
  ('address', 'vorstand@kunde2.example',  'delivery', 'smtp:[vorstand-mx.kunde2.example]:25', 'board mailbox handled by the customer');

INSERT INTO relayhosts (match_type, pattern, nexthop, credential_ref, comment) VALUES
  ('domain',  'kunde1.example',     '[smtp.isp.example]:587',         '[smtp.isp.example]:587', NULL),
  ('address', 'info@kunde2.example','[smtp.kunde2-provider.example]:465', 'info@kunde2.example', 'wins over domains.relayhost');
INSERT INTO relayhosts (match_type, pattern, nexthop, credential_ref, comment)
  SELECT 'default', '', '[smarthost.isp.example]:587', '[smarthost.isp.example]:587', 'default'
  WHERE NOT EXISTS (SELECT 1 FROM relayhosts WHERE match_type = 'default');

INSERT INTO sender_grants (login, match_type, pattern, comment) VALUES
  ('chef@kunde1.example', 'domain',  'kunde1.example',     'customer admin may send as any kunde1 address'),
  ('chef@kunde1.example', 'domain',  'kunde-eins.example', 'and as the old brand'),
  ('m.meier@kunde2.example', 'address', 'info@kunde2.example', NULL);

INSERT INTO dkim_keys (domain, selector, algorithm, key_path) VALUES
  ('kunde1.example', 'isp2025', 'rsa-sha256', '/etc/postern/dkim/kunde1.example/isp2025.key'),
  ('kunde2.example', 'isp2025', 'rsa-sha256', '/etc/postern/dkim/kunde2.example/isp2025.key');

-- Greylisting: shorter delay for kunde1, none for the relay customer.
INSERT INTO greylist_settings (domain, delay_seconds) VALUES ('kunde1.example', 60);
INSERT INTO greylist_settings (domain, enabled) VALUES ('kunde3.example', 0);
INSERT INTO greylist_whitelist (kind, value, comment) VALUES
  ('client_network', '203.0.113.0/24',  'ISP''s own customer network'),
  ('client_network', '2001:db8:42::/48', 'ISP''s own customer network, IPv6');

-- Rate limits for every customer login, and for unauthenticated clients
-- per /24 (IPv4) or /56 (IPv6).
INSERT INTO ratelimit_rules (name, key_type, match_value, counts, action, text, priority, ipv4_prefix, ipv6_prefix, comment) VALUES
  ('isp-login-messages',  'sasl_login',     NULL, 'messages',   'defer',  NULL, 10, NULL, NULL, 'every customer account'),
  ('isp-login-bytes',     'sasl_login',     NULL, 'bytes',      'defer',  NULL, 11, NULL, NULL, 'volume per account'),
  ('isp-client-recipients','client_address', NULL, 'recipients', 'defer', NULL, 30, 24, 56, 'inbound per client network'),
  ('isp-kunde4-sender',   'sender_domain',  'kunde4.example', 'messages', 'warn', NULL, 40, NULL, NULL, 'watch the legacy customer');
INSERT INTO ratelimit_windows (rule_id, window_seconds, max_count)
            SELECT id, 3600,  200        FROM ratelimit_rules WHERE name = 'isp-login-messages'
  UNION ALL SELECT id, 86400, 1000       FROM ratelimit_rules WHERE name = 'isp-login-messages'
  UNION ALL SELECT id, 86400, 2147483648 FROM ratelimit_rules WHERE name = 'isp-login-bytes'
  UNION ALL SELECT id, 3600,  5000       FROM ratelimit_rules WHERE name = 'isp-client-recipients'
  UNION ALL SELECT id, 86400, 5000       FROM ratelimit_rules WHERE name = 'isp-kunde4-sender';
INSERT INTO ratelimit_overrides (rule_id, key_value, window_seconds, max_count, comment)
  SELECT id, 'info@kunde2.example', 86400, 5000, 'association newsletter' FROM ratelimit_rules WHERE name = 'isp-login-messages';
