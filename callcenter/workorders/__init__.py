"""Work orders: one per answered call, referred down the tiers, followed up and closed (issue 6).

Rules live in :mod:`routing.referral` (pure); this package keeps them in PostgreSQL (``models``,
``store``) and seeds the organisation tree (``units``)."""
