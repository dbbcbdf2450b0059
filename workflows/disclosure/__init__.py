"""Disclosure control: plans (pure), standing policies (pure), consent and the ledger (ORM).

- `plan`: what a pipeline discloses, from its components' declarations and its graph;
- `policy`: owners' standing policies (allow / ask / refuse per form of disclosure);
- `checks`: the validation step that computes the plan and refuses what policies refuse;
- `words`: the plan as sentences for the owner who approves it;
- `consent`: approval requests bound to a plan's fingerprint;
- `ledger`: what each party actually received in a run.
"""
