"""Hazardous materials of split custody: Shamir sharing over GF(2^8), unauthenticated.
Use the recipe in :mod:`facegate.custody` instead."""
