"""iCalendar parsing every calendar source shares: VEVENTs, text values, recurrence."""
