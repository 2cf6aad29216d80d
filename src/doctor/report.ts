import { z } from 'zod';
import { STATUSES } from './finding.js';

/** The `doctor --json` document (../shared/DESIGN.md); scripts depend on this shape. */
export const DoctorReport = z.object({
  hosts: z.array(
    z.object({
      host: z.string(),
      user: z.string(),
      /** Set when the host could not be checked at all (SSH refused, say); checks is then empty. */
      error: z.object({ code: z.string(), message: z.string(), hint: z.string().optional(), exitCode: z.number() }).optional(),
      checks: z.array(
        z.strictObject({
          id: z.string().regex(/^[a-z]+\.[a-z0-9]+$|^resources$/),
          status: z.enum(STATUSES),
          summary: z.string().min(1),
          remedy: z.string(),
        }),
      ),
    }),
  ),
});
export type DoctorReport = z.infer<typeof DoctorReport>;
