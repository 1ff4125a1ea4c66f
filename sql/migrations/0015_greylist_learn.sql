-- 0015_greylist_learn: greylisting that learns who is real (issue 19,
-- section 3).  Both tables are STATE written by postern-policyd (not
-- audited, no change_counter trigger), deleted by its pruning once
-- expired (policyd/prune.c).
--
-- greylist_reply_awl: a local user (authenticated submission, the
-- canonical sender address) wrote to an outside address; mail from that
-- address (or, with [policyd] greylist_reply_domain = yes, from any
-- address of its domain) to that user is not greylisted until expires_at.
-- At most [policyd] greylist_reply_max rows per user: a full user gets no
-- new rows (existing ones are refreshed).
--
-- greylist_domain_awl: sender domains that passed greylisting with
-- [policyd] greylist_domain_awl distinct triplets from one client network
-- (sqlgrey's domain_awl): later mail from that domain and network is not
-- greylisted while last_seen + the expiry of greylist_settings holds.

CREATE TABLE greylist_reply_awl (
  local_user  VARCHAR(320) NOT NULL COMMENT 'the local sender, canonical (lib/addr addr_canonical)',
  peer        VARCHAR(320) NOT NULL COMMENT 'the outside recipient it wrote to, canonical',
  peer_domain VARCHAR(255) NOT NULL COMMENT 'the domain of peer (greylist_reply_domain = yes)',
  created_at  BIGINT UNSIGNED NOT NULL COMMENT 'Unix time of the first such mail',
  expires_at  BIGINT UNSIGNED NOT NULL COMMENT 'Unix time: replies skip greylisting until then',
  PRIMARY KEY (local_user, peer),
  KEY greylist_reply_awl_domain (local_user, peer_domain),
  KEY greylist_reply_awl_expires (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='STATE (written by postern-policyd): replies to addresses local users wrote to skip greylisting';

CREATE TABLE greylist_domain_awl (
  sender_domain VARCHAR(255) NOT NULL COMMENT 'the sender domain, canonical',
  client_net    VARCHAR(255) NOT NULL COMMENT 'client network in CIDR form or spf:DOMAIN, as in greylist_triplets',
  first_seen    BIGINT UNSIGNED NOT NULL COMMENT 'Unix time of the first passed triplet',
  last_seen     BIGINT UNSIGNED NOT NULL COMMENT 'Unix time of the latest passed triplet',
  pass_count    INT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'triplets of this domain that passed from this network; >= greylist_domain_awl means whitelisted',
  PRIMARY KEY (sender_domain, client_net),
  KEY greylist_domain_awl_last_seen (last_seen)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='STATE (written by postern-policyd): sender domains auto-whitelisted per client network';
