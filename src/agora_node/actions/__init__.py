"""What a person on this node does, shared by every surface that lets them.

The C2S outbox, the Mastodon client API and the web pages each turn their
input into a call here and the result into their own output; none of them
holds a rule. An action does the network half of a local action (resolve a
handle, fetch the post replied to, check who is addressed) and then runs one
transaction in ``processing``, which stays pure. Reads that decide who may
see what go through ``processing.visibility`` the same way.

Layering: ``actions`` sits above ``processing``, ``store`` and the
``federation`` resolver, and below ``api`` and ``web``, which never import
each other.
"""
