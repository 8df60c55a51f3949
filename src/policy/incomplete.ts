/** The finding for a push whose content could not be fully checked; never allowed, whatever the mode or overrides say. */
export const INCOMPLETE_RULE = { id: 'scan.incomplete', fix: 'The push could not be fully checked; a reviewer decides, or split it into smaller pushes.' };
