"""Pure derivations: a program's facts in, figures, findings and billing out.

Nothing here stores, reads the environment or knows about HTTP. The entry
point is `projections.fold.Fold`, the one judge of a program.
"""
