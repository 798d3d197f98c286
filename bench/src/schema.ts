/**
 * The ONE zod schema every contender validates its written documents with (lsmdoc internally, the
 * peers by calling `schema.parse` on every inserted and every updated document), and the document
 * types derived from it.
 */
import { z } from "./lsmdoc-api.js";

export const UserSchema = z.object({
  name: z.string().min(1),
  email: z.email(),
  age: z.number().int().min(0).max(150),
  city: z.string(),
  tags: z.array(z.string()),
  createdAt: z.date(),
  bio: z.string(),
});

/** A document as the application writes it (no `_id`). */
export type UserInput = z.infer<typeof UserSchema>;
/** A stored document: the validated fields plus the store's `_id`. */
export type User = UserInput & { _id: string };

/** The fields compared when checking a document against the model. */
export const USER_FIELDS = ["_id", "name", "email", "age", "city", "tags", "createdAt", "bio"] as const;
