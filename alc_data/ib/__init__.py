"""Everything that speaks ib_async lives under this package; IB's camelCase stops here."""
