// The worker core: configuration, handler runner, outcome mapping, supervisor (DESIGN section 6).
