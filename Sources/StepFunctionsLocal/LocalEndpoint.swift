// The local Step Functions activity endpoint (DESIGN section 8).
