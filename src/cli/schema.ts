import { z } from 'zod';
import { ExitCode } from '../errors.js';
import { ClusterFileSchema } from '../config/cluster-file.js';

/** `rootlet schema`: the cluster file's JSON Schema, made from the one zod schema (schema/cluster.schema.json is the same). */
export function schemaCommand(): Promise<number> {
  process.stdout.write(`${JSON.stringify(z.toJSONSchema(ClusterFileSchema, { io: 'input' }), null, 2)}\n`);
  return Promise.resolve(ExitCode.ok);
}
