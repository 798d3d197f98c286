import { z } from "zod";
import type { Doc, Filter, Sort, Update, IndexFields } from "../../collections/types.js";
const Address = z.object({
  street: z.string(),
  city: z.string(),
  zip: z.string().optional(),
});

const User = z.object({
  name: z.string(),
  email: z.email(),
  age: z.number().int(),
  city: z.string(),
  active: z.boolean(),
  tags: z.array(z.string()).default([]),
  logins: z.number().int().default(0),
  nickname: z.string().optional(),
  manager: z.string().nullable(),
  address: Address.optional(),
  items: z.array(z.object({ sku: z.string(), price: z.number(), qty: z.number().int() })).default([]),
  createdAt: z.date(),
  avatar: z.instanceof(Uint8Array).optional(),
  credits: z.bigint().optional(),
  role: z.enum(["admin", "member", "guest"]),
  roles: z.array(z.enum(["admin", "member", "guest"])).default([]),
});
type User = Doc<typeof User>;
export type X = Required<Filter<User>>; export declare const x: X;
