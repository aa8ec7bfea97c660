"""What the people-facing surfaces show: statuses, accounts and notifications.

The client API answers with these entities as JSON, and the web pages render
the very same ones, so a post shows the same counts, marks and visibility in
an app and in a browser. Loading (``load_*``) runs on a reader thread in a
fixed number of batched queries; building the entities touches no database.
"""
