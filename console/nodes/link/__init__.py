"""Node-to-node calls: a small gRPC service between paired PrivPad nodes.

- `envelope`: what a call carries (msgpack map with sender, nonce, timestamp, body; size-bounded,
  never pickle).
- `transport`: gRPC channels with mutual TLS pinned to one certificate, the certificate probe
  used while pairing, and call errors that name the peer. No Django.
- `service`: the server side (`manage.py node serve`): who is calling (the certificate it
  presented), replay and clock checks, routes, audit.
- `credentials`: which certificates a call trusts and which key pair this node presents, around
  a certificate rotation (`console.nodes.rotation`, which also holds `RotateCertificate`).
- `audit`: every call's audit event, on the calling and the called side. The client side of
  pairing (`Hello`) and `Health` is in `console.nodes.pairing`.
- Other apps serve more methods through `service.register_peer_method` (the federation's
  project, dataset, pipeline and approval messages, `console.federation.handlers`): only to
  enabled, pinned routes, with the same envelope checks and audit.

Threat model: the network is hostile (it can replay, delay, redirect or forge traffic); a
peer is authenticated only by the private key of the certificate pinned at pairing, never by
user credentials or a CA. A paired peer is trusted to be who it is, not to behave: every
message is bounds-checked and every call is audited on both sides.
"""
