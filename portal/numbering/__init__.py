"""Gapless numbers (member and volunteer numbers, certificates, receipts): one counter
row per series, advanced inside the transaction that uses the number."""
