"""Versioned schema migrations, run at start-up.

The schema version lives in ``PRAGMA user_version``. Each migration is a
list of statements applied in one transaction together with the version
bump, so an interrupted upgrade leaves the previous version intact.
Migrations only ever add: tables, columns, indexes. Nothing is dropped.
"""

from __future__ import annotations

import sqlite_utils

V1 = [
    """
    CREATE TABLE actors (
        id INTEGER PRIMARY KEY,
        uri TEXT NOT NULL UNIQUE,
        local INTEGER NOT NULL DEFAULT 0,
        type TEXT NOT NULL DEFAULT 'Person',
        username TEXT NOT NULL,
        host TEXT NOT NULL,
        display_name TEXT NOT NULL DEFAULT '',
        summary TEXT NOT NULL DEFAULT '',
        url TEXT,
        inbox TEXT,
        outbox TEXT,
        shared_inbox TEXT,
        followers_uri TEXT,
        following_uri TEXT,
        featured_uri TEXT,
        manually_approves INTEGER NOT NULL DEFAULT 0,
        discoverable INTEGER NOT NULL DEFAULT 1,
        also_known_as TEXT NOT NULL DEFAULT '[]',
        moved_to TEXT,
        fields TEXT NOT NULL DEFAULT '[]',
        document TEXT,
        fetched_at REAL,
        published REAL,
        deleted_at REAL,
        last_move_at REAL
    )
    """,
    "CREATE INDEX actors_acct ON actors(username COLLATE NOCASE, host)",
    "CREATE INDEX actors_followers_uri ON actors(followers_uri)",
    """
    CREATE TABLE accounts (
        id INTEGER PRIMARY KEY,
        username TEXT NOT NULL UNIQUE COLLATE NOCASE,
        actor_id INTEGER NOT NULL UNIQUE REFERENCES actors(id),
        password_hash TEXT NOT NULL,
        is_admin INTEGER NOT NULL DEFAULT 0,
        rsa_private_pem TEXT NOT NULL,
        ed25519_private_pem TEXT NOT NULL,
        created_at REAL NOT NULL,
        last_active_at REAL,
        deleted_at REAL
    )
    """,
    """
    CREATE TABLE keys (
        key_id TEXT PRIMARY KEY,
        actor_uri TEXT NOT NULL,
        public_key_pem TEXT NOT NULL,
        key_type TEXT NOT NULL DEFAULT 'rsa',
        fetched_at REAL NOT NULL,
        gone INTEGER NOT NULL DEFAULT 0
    )
    """,
    "CREATE INDEX keys_actor ON keys(actor_uri)",
    """
    CREATE TABLE objects (
        id INTEGER PRIMARY KEY,
        uri TEXT NOT NULL UNIQUE,
        type TEXT NOT NULL,
        actor_uri TEXT NOT NULL,
        local INTEGER NOT NULL DEFAULT 0,
        visibility TEXT NOT NULL DEFAULT 'public',
        content TEXT NOT NULL DEFAULT '',
        summary TEXT NOT NULL DEFAULT '',
        sensitive INTEGER NOT NULL DEFAULT 0,
        name TEXT NOT NULL DEFAULT '',
        url TEXT,
        in_reply_to TEXT,
        conversation TEXT,
        boost_of TEXT,
        activity_uri TEXT,
        published REAL NOT NULL,
        updated REAL,
        data TEXT NOT NULL DEFAULT '{}',
        deleted_at REAL
    )
    """,
    "CREATE INDEX objects_actor_published ON objects(actor_uri, id)",
    "CREATE INDEX objects_public ON objects(visibility, id)",
    "CREATE INDEX objects_local_public ON objects(local, visibility, id)",
    "CREATE INDEX objects_in_reply_to ON objects(in_reply_to)",
    "CREATE INDEX objects_boost_of ON objects(boost_of)",
    """
    CREATE TABLE object_edits (
        id INTEGER PRIMARY KEY,
        object_uri TEXT NOT NULL,
        data TEXT NOT NULL,
        edited_at REAL NOT NULL
    )
    """,
    "CREATE INDEX object_edits_uri ON object_edits(object_uri)",
    """
    CREATE TABLE object_recipients (
        object_id INTEGER NOT NULL REFERENCES objects(id) ON DELETE CASCADE,
        actor_uri TEXT NOT NULL,
        PRIMARY KEY (object_id, actor_uri)
    )
    """,
    "CREATE INDEX object_recipients_actor ON object_recipients(actor_uri, object_id)",
    """
    CREATE TABLE tags (
        object_id INTEGER NOT NULL REFERENCES objects(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        href TEXT
    )
    """,
    "CREATE INDEX tags_name ON tags(kind, name)",
    "CREATE INDEX tags_object ON tags(object_id)",
    """
    CREATE TABLE activities (
        id INTEGER PRIMARY KEY,
        uri TEXT NOT NULL UNIQUE,
        type TEXT NOT NULL,
        actor_uri TEXT NOT NULL,
        object_uri TEXT,
        local INTEGER NOT NULL DEFAULT 0,
        visibility TEXT NOT NULL DEFAULT 'public',
        data TEXT NOT NULL,
        created_at REAL NOT NULL
    )
    """,
    "CREATE INDEX activities_actor ON activities(actor_uri, id)",
    "CREATE INDEX activities_object ON activities(object_uri)",
    """
    CREATE TABLE follows (
        id INTEGER PRIMARY KEY,
        follower_uri TEXT NOT NULL,
        followee_uri TEXT NOT NULL,
        activity_uri TEXT,
        state TEXT NOT NULL DEFAULT 'pending',
        created_at REAL NOT NULL,
        UNIQUE (follower_uri, followee_uri)
    )
    """,
    "CREATE INDEX follows_followee ON follows(followee_uri, state)",
    """
    CREATE TABLE likes (
        id INTEGER PRIMARY KEY,
        actor_uri TEXT NOT NULL,
        object_uri TEXT NOT NULL,
        activity_uri TEXT NOT NULL UNIQUE,
        created_at REAL NOT NULL,
        UNIQUE (actor_uri, object_uri)
    )
    """,
    "CREATE INDEX likes_object ON likes(object_uri)",
    """
    CREATE TABLE blocks (
        id INTEGER PRIMARY KEY,
        actor_uri TEXT NOT NULL,
        target_uri TEXT NOT NULL,
        activity_uri TEXT,
        created_at REAL NOT NULL,
        UNIQUE (actor_uri, target_uri)
    )
    """,
    "CREATE INDEX blocks_target ON blocks(target_uri)",
    """
    CREATE TABLE notifications (
        id INTEGER PRIMARY KEY,
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        type TEXT NOT NULL,
        from_actor_uri TEXT NOT NULL,
        object_uri TEXT,
        activity_uri TEXT,
        created_at REAL NOT NULL,
        read INTEGER NOT NULL DEFAULT 0
    )
    """,
    "CREATE INDEX notifications_account ON notifications(account_id, id)",
    """
    CREATE TABLE reports (
        id INTEGER PRIMARY KEY,
        activity_uri TEXT NOT NULL UNIQUE,
        reporter_uri TEXT NOT NULL,
        target_uris TEXT NOT NULL,
        content TEXT NOT NULL DEFAULT '',
        created_at REAL NOT NULL,
        resolved_at REAL
    )
    """,
    """
    CREATE TABLE featured (
        id INTEGER PRIMARY KEY,
        actor_uri TEXT NOT NULL,
        object_uri TEXT NOT NULL,
        created_at REAL NOT NULL,
        UNIQUE (actor_uri, object_uri)
    )
    """,
    """
    CREATE TABLE jobs (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        dedupe_key TEXT UNIQUE,
        payload TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        run_at REAL NOT NULL,
        locked_until REAL,
        last_error TEXT,
        created_at REAL NOT NULL,
        finished_at REAL
    )
    """,
    "CREATE INDEX jobs_due ON jobs(state, kind, run_at)",
    """
    CREATE TABLE deliveries (
        id INTEGER PRIMARY KEY,
        activity_uri TEXT NOT NULL,
        inbox TEXT NOT NULL,
        host TEXT NOT NULL,
        signer_account_id INTEGER,
        state TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL NOT NULL,
        locked_until REAL,
        last_status INTEGER,
        last_error TEXT,
        created_at REAL NOT NULL,
        finished_at REAL,
        UNIQUE (activity_uri, inbox)
    )
    """,
    "CREATE INDEX deliveries_due ON deliveries(state, next_attempt_at)",
    "CREATE INDEX deliveries_host ON deliveries(host, state)",
    """
    CREATE TABLE hosts (
        host TEXT PRIMARY KEY,
        failure_days TEXT NOT NULL DEFAULT '[]',
        unavailable INTEGER NOT NULL DEFAULT 0,
        consecutive_failures INTEGER NOT NULL DEFAULT 0,
        circuit_open_until REAL,
        signature_scheme TEXT,
        last_success_at REAL,
        blocked INTEGER NOT NULL DEFAULT 0
    )
    """,
    """
    CREATE TABLE api_tokens (
        id INTEGER PRIMARY KEY,
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        scopes TEXT NOT NULL,
        created_at REAL NOT NULL,
        expires_at REAL,
        revoked_at REAL
    )
    """,
    """
    CREATE TABLE instance_state (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    )
    """,
]

# OAuth 2.0 clients: registered apps, authorization codes (PKCE) and the
# refresh side of tokens; API tokens gain an app and a refresh hash.
V2 = [
    """
    CREATE TABLE oauth_apps (
        id INTEGER PRIMARY KEY,
        client_id TEXT NOT NULL UNIQUE,
        client_secret_hash TEXT NOT NULL,
        name TEXT NOT NULL,
        redirect_uris TEXT NOT NULL,
        scopes TEXT NOT NULL,
        website TEXT,
        created_at REAL NOT NULL
    )
    """,
    """
    CREATE TABLE oauth_codes (
        code_hash TEXT PRIMARY KEY,
        app_id INTEGER NOT NULL REFERENCES oauth_apps(id) ON DELETE CASCADE,
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        redirect_uri TEXT NOT NULL,
        scopes TEXT NOT NULL,
        code_challenge TEXT,
        code_challenge_method TEXT,
        expires_at REAL NOT NULL,
        used_at REAL
    )
    """,
    "ALTER TABLE api_tokens ADD COLUMN app_id INTEGER REFERENCES oauth_apps(id)",
    "ALTER TABLE api_tokens ADD COLUMN refresh_hash TEXT",
    "CREATE UNIQUE INDEX api_tokens_refresh ON api_tokens(refresh_hash)",
    """
    CREATE TABLE login_failures (
        key TEXT PRIMARY KEY,
        failures INTEGER NOT NULL,
        window_start REAL NOT NULL
    )
    """,
]

# Timelines: the home timeline reads each followed author's newest live rows
# from this index alone (visibility and boost_of are all it filters on), so a
# page costs index steps, not table rows. See store/timelines.py.
V3 = [
    "CREATE INDEX objects_live_by_actor ON objects(actor_uri, id, visibility, boost_of) "
    "WHERE deleted_at IS NULL",
]

# The worker's place in each segment of the inbox spool (store/spool.py).
V4 = [
    """
    CREATE TABLE spool_cursor (
        generation TEXT PRIMARY KEY,
        last_id INTEGER NOT NULL,
        finished_at REAL
    )
    """,
]

# What the client API keeps per person: read positions, bookmarks, mutes, and
# the answers to requests sent with an Idempotency-Key.
V5 = [
    """
    CREATE TABLE markers (
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        timeline TEXT NOT NULL,
        last_read_id INTEGER NOT NULL,
        version INTEGER NOT NULL DEFAULT 1,
        updated_at REAL NOT NULL,
        PRIMARY KEY (account_id, timeline)
    )
    """,
    """
    CREATE TABLE bookmarks (
        id INTEGER PRIMARY KEY,
        actor_uri TEXT NOT NULL,
        object_uri TEXT NOT NULL,
        created_at REAL NOT NULL,
        UNIQUE (actor_uri, object_uri)
    )
    """,
    """
    CREATE TABLE mutes (
        id INTEGER PRIMARY KEY,
        actor_uri TEXT NOT NULL,
        target_uri TEXT NOT NULL,
        notifications INTEGER NOT NULL DEFAULT 1,
        expires_at REAL,
        created_at REAL NOT NULL,
        UNIQUE (actor_uri, target_uri)
    )
    """,
    """
    CREATE TABLE idempotency_keys (
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        object_uri TEXT NOT NULL,
        created_at REAL NOT NULL,
        PRIMARY KEY (account_id, key)
    )
    """,
]

# Edits and deletions in the order they were committed, so the streaming API
# (in whichever process serves it) can tell clients, by reading past the
# last id it has seen (store/stream.py keeps the newest, prunes the rest).
V6 = [
    """
    CREATE TABLE object_changes (
        id INTEGER PRIMARY KEY,
        object_id INTEGER NOT NULL,
        kind TEXT NOT NULL,
        at REAL NOT NULL
    )
    """,
    # Search finds a post by the address people copy: its page URL as well as its id.
    "CREATE INDEX objects_url ON objects(url)",
]

# Per-actor counters (posts, followers, followings, last post) kept by
# triggers, so every writer keeps them right and rendering a page of
# accounts reads one row per author instead of counting their posts.
_BUMP_POSTS = (
    "INSERT INTO actor_stats (actor_uri, statuses, last_status_at) VALUES ({uri}, {n}, {at}) "
    "ON CONFLICT (actor_uri) DO UPDATE SET statuses = statuses + {n}, "
    "last_status_at = max(coalesce(last_status_at, 0), coalesce(excluded.last_status_at, 0))"
)
_BUMP_FOLLOW = (
    "INSERT INTO actor_stats (actor_uri, {column}) VALUES ({uri}, {n}) "
    "ON CONFLICT (actor_uri) DO UPDATE SET {column} = {column} + {n}"
)


def _follow_change(side: str, n: int) -> str:
    return ";\n".join(
        [
            _BUMP_FOLLOW.format(column="followers", uri=f"{side}.followee_uri", n=n),
            _BUMP_FOLLOW.format(column="following", uri=f"{side}.follower_uri", n=n),
        ]
    )


V7 = [
    """
    CREATE TABLE actor_stats (
        actor_uri TEXT PRIMARY KEY,
        statuses INTEGER NOT NULL DEFAULT 0,
        followers INTEGER NOT NULL DEFAULT 0,
        following INTEGER NOT NULL DEFAULT 0,
        last_status_at REAL
    ) WITHOUT ROWID
    """,
    "CREATE TRIGGER objects_count_insert AFTER INSERT ON objects WHEN NEW.deleted_at IS NULL "
    f"BEGIN {_BUMP_POSTS.format(uri='NEW.actor_uri', n=1, at='NEW.published')}; END",
    "CREATE TRIGGER objects_count_delete AFTER DELETE ON objects WHEN OLD.deleted_at IS NULL "
    f"BEGIN {_BUMP_POSTS.format(uri='OLD.actor_uri', n=-1, at='NULL')}; END",
    "CREATE TRIGGER objects_count_tombstone AFTER UPDATE OF deleted_at ON objects "
    "WHEN OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL "
    f"BEGIN {_BUMP_POSTS.format(uri='OLD.actor_uri', n=-1, at='NULL')}; END",
    "CREATE TRIGGER objects_count_revive AFTER UPDATE OF deleted_at ON objects "
    "WHEN OLD.deleted_at IS NOT NULL AND NEW.deleted_at IS NULL "
    f"BEGIN {_BUMP_POSTS.format(uri='NEW.actor_uri', n=1, at='NEW.published')}; END",
    "CREATE TRIGGER follows_count_insert AFTER INSERT ON follows WHEN NEW.state = 'accepted' "
    f"BEGIN {_follow_change('NEW', 1)}; END",
    "CREATE TRIGGER follows_count_delete AFTER DELETE ON follows WHEN OLD.state = 'accepted' "
    f"BEGIN {_follow_change('OLD', -1)}; END",
    "CREATE TRIGGER follows_count_accept AFTER UPDATE OF state ON follows "
    "WHEN OLD.state != 'accepted' AND NEW.state = 'accepted' "
    f"BEGIN {_follow_change('NEW', 1)}; END",
    "CREATE TRIGGER follows_count_unaccept AFTER UPDATE OF state ON follows "
    "WHEN OLD.state = 'accepted' AND NEW.state != 'accepted' "
    f"BEGIN {_follow_change('OLD', -1)}; END",
    # What the node already holds, counted once.
    """
    INSERT INTO actor_stats (actor_uri, statuses, last_status_at)
    SELECT actor_uri, count(*), max(published) FROM objects
    WHERE deleted_at IS NULL GROUP BY actor_uri
    """,
    """
    INSERT INTO actor_stats (actor_uri, followers)
    SELECT followee_uri, count(*) FROM follows WHERE state = 'accepted' GROUP BY followee_uri
    ON CONFLICT (actor_uri) DO UPDATE SET followers = excluded.followers
    """,
    """
    INSERT INTO actor_stats (actor_uri, following)
    SELECT follower_uri, count(*) FROM follows WHERE state = 'accepted' GROUP BY follower_uri
    ON CONFLICT (actor_uri) DO UPDATE SET following = excluded.following
    """,
]

# Muted conversations, keyed by the thread (store/mutes.py, conversation_key),
# and private notes on accounts.
V8 = [
    """
    CREATE TABLE conversation_mutes (
        actor_uri TEXT NOT NULL,
        conversation TEXT NOT NULL,
        created_at REAL NOT NULL,
        PRIMARY KEY (actor_uri, conversation)
    ) WITHOUT ROWID
    """,
    # What one says to oneself about an account (the Relationship's ``note``).
    """
    CREATE TABLE account_notes (
        actor_uri TEXT NOT NULL,
        target_uri TEXT NOT NULL,
        comment TEXT NOT NULL,
        updated_at REAL NOT NULL,
        PRIMARY KEY (actor_uri, target_uri)
    ) WITHOUT ROWID
    """,
]

# Each account's posting defaults and the plain text of its profile note and
# fields (what update_credentials' ``source`` gives back to edit).
V9 = [
    """
    CREATE TABLE account_settings (
        account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
        privacy TEXT NOT NULL DEFAULT 'public',
        sensitive INTEGER NOT NULL DEFAULT 0,
        language TEXT NOT NULL DEFAULT '',
        note TEXT,
        fields TEXT
    )
    """,
]

# Hashtags: their posts newest first straight from an index (timelines, and
# the home timeline's followed hashtags), and who follows which.
V10 = [
    "CREATE INDEX tags_hashtag_object ON tags(kind, name, object_id)",
    """
    CREATE TABLE followed_tags (
        id INTEGER PRIMARY KEY,
        actor_uri TEXT NOT NULL,
        name TEXT NOT NULL,
        created_at REAL NOT NULL,
        UNIQUE (actor_uri, name)
    )
    """,
]

# Lists of accounts one follows, each with its own timeline.
V11 = [
    """
    CREATE TABLE lists (
        id INTEGER PRIMARY KEY,
        owner_uri TEXT NOT NULL,
        title TEXT NOT NULL,
        replies_policy TEXT NOT NULL DEFAULT 'list',
        exclusive INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL
    )
    """,
    "CREATE INDEX lists_owner ON lists(owner_uri, id)",
    """
    CREATE TABLE list_members (
        id INTEGER PRIMARY KEY,
        list_id INTEGER NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
        actor_uri TEXT NOT NULL,
        UNIQUE (list_id, actor_uri)
    )
    """,
    "CREATE INDEX list_members_actor ON list_members(actor_uri)",
    # A list holds only accounts one follows: when a follow ends (unfollow,
    # block, rejection, a deleted account), its account leaves one's lists.
    """
    CREATE TRIGGER follows_leave_lists AFTER DELETE ON follows BEGIN
        DELETE FROM list_members WHERE actor_uri = OLD.followee_uri
        AND list_id IN (SELECT id FROM lists WHERE owner_uri = OLD.follower_uri);
    END
    """,
]

# How far each account has read each of its conversations (direct posts by
# thread, store/conversations.py) and up to where it removed one.
V12 = [
    """
    CREATE TABLE conversation_marks (
        actor_uri TEXT NOT NULL,
        conversation TEXT NOT NULL,
        read_upto INTEGER,
        hidden_upto INTEGER,
        PRIMARY KEY (actor_uri, conversation)
    ) WITHOUT ROWID
    """,
]

# Polls: each vote (a local voter's own, or a vote on one of our polls), and
# what a local poll's author set that ActivityPub does not carry.
V13 = [
    """
    CREATE TABLE poll_votes (
        id INTEGER PRIMARY KEY,
        poll_uri TEXT NOT NULL,
        actor_uri TEXT NOT NULL,
        choice INTEGER NOT NULL,
        activity_uri TEXT,
        created_at REAL NOT NULL,
        UNIQUE (poll_uri, actor_uri, choice)
    )
    """,
    "CREATE INDEX poll_votes_actor ON poll_votes(actor_uri, poll_uri)",
    """
    CREATE TABLE poll_options (
        poll_uri TEXT PRIMARY KEY,
        hide_totals INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID
    """,
]

# The custom emoji a remote actor's name and bio use (filled as actors are
# fetched again).
V14 = [
    "ALTER TABLE actors ADD COLUMN emojis TEXT NOT NULL DEFAULT '[]'",
]

# Discovery: what an admin took out of the trends, suggestions one waved
# away, and the hashtags people feature on their profiles.
V15 = [
    """
    CREATE TABLE trend_hidden (
        kind TEXT NOT NULL,
        key TEXT NOT NULL,
        created_at REAL NOT NULL,
        PRIMARY KEY (kind, key)
    ) WITHOUT ROWID
    """,
    """
    CREATE TABLE suggestion_dismissals (
        actor_uri TEXT NOT NULL,
        target_uri TEXT NOT NULL,
        created_at REAL NOT NULL,
        PRIMARY KEY (actor_uri, target_uri)
    ) WITHOUT ROWID
    """,
    """
    CREATE TABLE featured_tags (
        id INTEGER PRIMARY KEY,
        actor_uri TEXT NOT NULL,
        name TEXT NOT NULL,
        created_at REAL NOT NULL,
        UNIQUE (actor_uri, name)
    )
    """,
]

# What a follower asked of a follow: the followee's boosts in the home
# timeline, and a notification for each new post.
V16 = [
    "ALTER TABLE follows ADD COLUMN show_reblogs INTEGER NOT NULL DEFAULT 1",
    "ALTER TABLE follows ADD COLUMN notify INTEGER NOT NULL DEFAULT 0",
]

# The web pages: signed-in browser sessions (by hash of the cookie, with the
# session's CSRF token), sign-ups waiting for an admin's approval (the account
# is made only when approved, so a pending one is nowhere else), and invites.
V17 = [
    """
    CREATE TABLE web_sessions (
        id_hash TEXT PRIMARY KEY,
        account_id INTEGER NOT NULL REFERENCES accounts(id),
        csrf TEXT NOT NULL,
        created_at REAL NOT NULL,
        seen_at REAL NOT NULL,
        expires_at REAL NOT NULL,
        remember INTEGER NOT NULL DEFAULT 0,
        user_agent TEXT NOT NULL DEFAULT '',
        ip TEXT NOT NULL DEFAULT ''
    ) WITHOUT ROWID
    """,
    "CREATE INDEX web_sessions_account ON web_sessions (account_id)",
    """
    CREATE TABLE signups (
        id INTEGER PRIMARY KEY,
        username TEXT NOT NULL UNIQUE COLLATE NOCASE,
        password_hash TEXT NOT NULL,
        reason TEXT NOT NULL DEFAULT '',
        ip TEXT NOT NULL DEFAULT '',
        created_at REAL NOT NULL
    )
    """,
    """
    CREATE TABLE invites (
        code TEXT PRIMARY KEY,
        created_by INTEGER REFERENCES accounts(id),
        created_at REAL NOT NULL,
        expires_at REAL,
        max_uses INTEGER,
        uses INTEGER NOT NULL DEFAULT 0,
        revoked_at REAL
    ) WITHOUT ROWID
    """,
]

# Admin pages: an admin suspends a local account (sign-in refused, sessions and
# tokens ended, profile hidden) and may lift it again; nothing is deleted.
V18 = [
    "ALTER TABLE accounts ADD COLUMN suspended_at REAL",
]

# Imports of a person's follows from a CSV file: one row per account named,
# worked through in the background, so the settings page can show progress.
V19 = [
    """
    CREATE TABLE imports (
        id INTEGER PRIMARY KEY,
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        total INTEGER NOT NULL,
        created_at REAL NOT NULL,
        finished_at REAL
    )
    """,
    """
    CREATE TABLE import_rows (
        id INTEGER PRIMARY KEY,
        import_id INTEGER NOT NULL REFERENCES imports(id) ON DELETE CASCADE,
        address TEXT NOT NULL,
        show_reblogs INTEGER,
        notify INTEGER,
        state TEXT NOT NULL DEFAULT 'pending',
        error TEXT
    )
    """,
    "CREATE INDEX import_rows_of ON import_rows(import_id, state)",
    "CREATE INDEX import_rows_pending ON import_rows(state) WHERE state = 'pending'",
]

# Moderation of accounts, local and remote: a suspended actor's posts are seen
# by nobody; a silenced (limited) one's stay out of public listings for anyone
# who does not follow it. Local suspensions so far move over.
V20 = [
    "ALTER TABLE actors ADD COLUMN suspended_at REAL",
    "ALTER TABLE actors ADD COLUMN silenced_at REAL",
    "CREATE INDEX actors_suspended ON actors(uri) WHERE suspended_at IS NOT NULL",
    "CREATE INDEX actors_silenced ON actors(uri) WHERE silenced_at IS NOT NULL",
    "UPDATE actors SET suspended_at = (SELECT a.suspended_at FROM accounts a "
    "WHERE a.actor_id = actors.id) WHERE id IN "
    "(SELECT actor_id FROM accounts WHERE suspended_at IS NOT NULL)",
]

# Uploaded media: one row per upload, its processed file and preview (keys of
# store/files.py), what it shows, and the post it was attached to.
V21 = [
    """
    CREATE TABLE media (
        id INTEGER PRIMARY KEY,
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        mime TEXT NOT NULL,
        file_key TEXT,
        preview_key TEXT,
        size INTEGER NOT NULL DEFAULT 0,
        width INTEGER,
        height INTEGER,
        preview_width INTEGER,
        preview_height INTEGER,
        blurhash TEXT,
        focus_x REAL NOT NULL DEFAULT 0,
        focus_y REAL NOT NULL DEFAULT 0,
        description TEXT NOT NULL DEFAULT '',
        object_uri TEXT,
        position INTEGER NOT NULL DEFAULT 0,
        state TEXT NOT NULL DEFAULT 'ready',
        error TEXT,
        created_at REAL NOT NULL
    )
    """,
    "CREATE INDEX media_object ON media(object_uri, position) WHERE object_uri IS NOT NULL",
    "CREATE INDEX media_unattached ON media(created_at) WHERE object_uri IS NULL",
    "CREATE INDEX media_file ON media(file_key)",
    "CREATE INDEX media_preview ON media(preview_key)",
    "CREATE INDEX media_account ON media(account_id)",
]

# Avatars and headers: the picture's address, for local actors (an upload of
# ours) and remote ones (their icon and image) alike.
V22 = [
    "ALTER TABLE actors ADD COLUMN avatar_url TEXT",
    "ALTER TABLE actors ADD COLUMN header_url TEXT",
]

# The cache of remote media: a copy of a remote attachment, avatar or header,
# by its address (or why it could not be had).
V23 = [
    """
    CREATE TABLE media_cache (
        url TEXT PRIMARY KEY,
        file_key TEXT,
        mime TEXT,
        size INTEGER NOT NULL DEFAULT 0,
        state TEXT NOT NULL,
        error TEXT,
        fetched_at REAL NOT NULL
    )
    """,
    "CREATE INDEX media_cache_age ON media_cache(fetched_at)",
]

# Whether an account hides whom it follows and who follows it.
V24 = [
    "ALTER TABLE account_settings ADD COLUMN hide_collections INTEGER NOT NULL DEFAULT 0",
]

# When each poll that concerns someone here ends (one of ours, or one a local
# account voted in), and whether its end was announced to them.
V25 = [
    """
    CREATE TABLE poll_ends (
        poll_uri TEXT PRIMARY KEY,
        ends_at REAL NOT NULL,
        notified_at REAL
    ) WITHOUT ROWID
    """,
    "CREATE INDEX poll_ends_due ON poll_ends(ends_at) WHERE notified_at IS NULL",
]

# The servers a person blocks for themselves (Mastodon's account domain blocks).
V26 = [
    """
    CREATE TABLE user_domain_blocks (
        id INTEGER PRIMARY KEY,
        actor_uri TEXT NOT NULL,
        domain TEXT NOT NULL,
        created_at REAL NOT NULL,
        UNIQUE (actor_uri, domain)
    )
    """,
    "CREATE INDEX actors_host ON actors(host)",
]

# The instance's domain blocks (Mastodon's severities and flags), the domains
# federated with in allowlist mode, and the record of every moderation action.
# Hosts marked blocked before this version become suspending domain blocks.
V27 = [
    """
    CREATE TABLE domain_blocks (
        id INTEGER PRIMARY KEY,
        domain TEXT NOT NULL UNIQUE,
        severity TEXT NOT NULL CHECK (severity IN ('suspend', 'silence', 'noop')),
        reject_media INTEGER NOT NULL DEFAULT 0,
        reject_reports INTEGER NOT NULL DEFAULT 0,
        obfuscate INTEGER NOT NULL DEFAULT 0,
        private_comment TEXT NOT NULL DEFAULT '',
        public_comment TEXT NOT NULL DEFAULT '',
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    )
    """,
    """
    CREATE TABLE domain_allows (
        id INTEGER PRIMARY KEY,
        domain TEXT NOT NULL UNIQUE,
        created_at REAL NOT NULL
    )
    """,
    """
    CREATE TABLE moderation_log (
        id INTEGER PRIMARY KEY,
        created_at REAL NOT NULL,
        by TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        reason TEXT NOT NULL DEFAULT '',
        detail TEXT NOT NULL DEFAULT '{}'
    )
    """,
    """
    INSERT INTO domain_blocks (domain, severity, created_at, updated_at)
    SELECT DISTINCT CASE WHEN instr(host, ':') > 0 THEN substr(host, 1, instr(host, ':') - 1)
                         ELSE host END,
           'suspend', strftime('%s', 'now'), strftime('%s', 'now')
    FROM hosts WHERE blocked = 1
    """,
]

# Reports as moderators work them: the reported account and posts, Mastodon's
# categories and rules, forwarding, who took the report, what was done, notes.
V28 = [
    "ALTER TABLE reports ADD COLUMN target_uri TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE reports ADD COLUMN status_uris TEXT NOT NULL DEFAULT '[]'",
    "ALTER TABLE reports ADD COLUMN category TEXT NOT NULL DEFAULT 'other'",
    "ALTER TABLE reports ADD COLUMN rule_ids TEXT NOT NULL DEFAULT '[]'",
    "ALTER TABLE reports ADD COLUMN local INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE reports ADD COLUMN forwarded INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE reports ADD COLUMN assigned_account_id INTEGER",
    "ALTER TABLE reports ADD COLUMN action_taken TEXT",
    "ALTER TABLE reports ADD COLUMN action_taken_by TEXT",
    "ALTER TABLE reports ADD COLUMN action_comment TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE reports ADD COLUMN updated_at REAL",
    """
    UPDATE reports SET target_uri = coalesce(json_extract(target_uris, '$[0]'), ''),
        status_uris = coalesce((SELECT json_group_array(value) FROM json_each(target_uris)
                                WHERE key > 0), '[]'),
        updated_at = created_at
    """,
    "CREATE INDEX reports_open ON reports(resolved_at, id)",
    "CREATE INDEX reports_target ON reports(target_uri, id)",
    """
    CREATE TABLE report_notes (
        id INTEGER PRIMARY KEY,
        report_id INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
        author TEXT NOT NULL,
        content TEXT NOT NULL,
        created_at REAL NOT NULL
    )
    """,
    "CREATE INDEX report_notes_report ON report_notes(report_id, id)",
]

# People's keyword filters (Mastodon's v2 filters): where they apply, what they
# do, when they end; their keywords and the single posts they name.
V29 = [
    """
    CREATE TABLE filters (
        id INTEGER PRIMARY KEY,
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        title TEXT NOT NULL,
        contexts TEXT NOT NULL,
        action TEXT NOT NULL CHECK (action IN ('warn', 'hide', 'blur')),
        expires_at REAL,
        created_at REAL NOT NULL
    )
    """,
    "CREATE INDEX filters_account ON filters(account_id, id)",
    """
    CREATE TABLE filter_keywords (
        id INTEGER PRIMARY KEY,
        filter_id INTEGER NOT NULL REFERENCES filters(id) ON DELETE CASCADE,
        keyword TEXT NOT NULL,
        whole_word INTEGER NOT NULL DEFAULT 1
    )
    """,
    "CREATE INDEX filter_keywords_filter ON filter_keywords(filter_id, id)",
    """
    CREATE TABLE filter_statuses (
        id INTEGER PRIMARY KEY,
        filter_id INTEGER NOT NULL REFERENCES filters(id) ON DELETE CASCADE,
        object_uri TEXT NOT NULL,
        UNIQUE (filter_id, object_uri)
    )
    """,
]

# Block lists an admin subscribes to (fetched on a schedule), the blocks each
# one made, and a record of what every refresh changed.
V30 = [
    """
    CREATE TABLE blocklist_subscriptions (
        id INTEGER PRIMARY KEY,
        url TEXT NOT NULL UNIQUE,
        created_at REAL NOT NULL,
        fetched_at REAL,
        last_error TEXT
    )
    """,
    "ALTER TABLE domain_blocks ADD COLUMN subscription_id INTEGER",
    """
    CREATE TABLE blocklist_refreshes (
        id INTEGER PRIMARY KEY,
        subscription_id INTEGER NOT NULL REFERENCES blocklist_subscriptions(id) ON DELETE CASCADE,
        at REAL NOT NULL,
        changes TEXT NOT NULL,
        error TEXT
    )
    """,
]

# More of what an admin does to an account: its media always shown as
# sensitive, and a local account's sign-in disabled (its profile stays).
V31 = [
    "ALTER TABLE actors ADD COLUMN sensitized_at REAL",
    "ALTER TABLE accounts ADD COLUMN disabled_at REAL",
]

# Accounts an admin keeps out of the public timelines (force-unlisted).
V32 = [
    "ALTER TABLE actors ADD COLUMN unlisted_at REAL",
    "CREATE INDEX actors_unlisted ON actors(uri) WHERE unlisted_at IS NOT NULL",
]

# Each entry migrates from version (index) to version (index + 1).
MIGRATIONS: list[list[str]] = [
    V1,
    V2,
    V3,
    V4,
    V5,
    V6,
    V7,
    V8,
    V9,
    V10,
    V11,
    V12,
    V13,
    V14,
    V15,
    V16,
    V17,
    V18,
    V19,
    V20,
    V21,
    V22,
    V23,
    V24,
    V25,
    V26,
    V27,
    V28,
    V29,
    V30,
    V31,
    V32,
]


def schema_version(db: sqlite_utils.Database) -> int:
    row = db.execute("PRAGMA user_version").fetchone()
    return int(row[0])


def migrate(db: sqlite_utils.Database, target: int | None = None) -> int:
    """Bring the database up to ``target`` (default: latest); returns the version."""
    goal = len(MIGRATIONS) if target is None else target
    current = schema_version(db)
    if current > len(MIGRATIONS):
        raise RuntimeError(
            f"database schema version {current} is newer than this software ({len(MIGRATIONS)})"
        )
    raw = db.conn
    while current < goal:
        raw.execute("BEGIN IMMEDIATE")
        try:
            for statement in MIGRATIONS[current]:
                raw.execute(statement)
            current += 1
            raw.execute(f"PRAGMA user_version = {current}")
            raw.execute("COMMIT")
        except Exception:
            raw.execute("ROLLBACK")
            raise
    return current
