"""HTTP API: owners decide, the CRM triggers and reports events, ops check health."""
