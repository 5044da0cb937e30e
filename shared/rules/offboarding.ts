/** Offboarding's stage default, shared by the stage configuration (infra/config.ts) and the admin-tenants function. */

/** Days a deleted tenant's items are kept when the stage does not say: a year of billing periods, and a month to spare. */
export const DEFAULT_DELETED_TENANT_RETENTION_DAYS = 400;
