"""Seats: the one way class sessions, volunteer shifts and marrow sample sessions hold
their capacity (shared/DESIGN.md, "Capacity"). No blueprint: features call
`take_seats` / `give_back_seats` from their services."""
