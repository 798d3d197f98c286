import { z } from "zod";
import type { Doc, PathEntries, Path, PathValue, Filter, Sort, Update, IndexFields, IndexablePath, InsertDoc } from "../../collections/types.js";
const S = z.object({ name: z.string(), nick: z.string().optional(), addr: z.object({ zip: z.string(), extra: z.number().nullable() }).optional(),
 items: z.array(z.object({ price: z.number(), tags: z.array(z.string()) })), tags: z.array(z.string()).default([]), b: z.boolean(), when: z.date(),
 u: z.union([z.object({a: z.number()}), z.object({a: z.string(), c: z.boolean()})]), big: z.bigint(), id: z.string().brand<"X">(), m: z.map(z.string(), z.number()),
 rec: z.record(z.string(), z.object({ q: z.number() })) });
type D = Doc<typeof S>;
type E = PathEntries<D>;
const x: 1 = null as any as [E];
const y: 1 = null as any as [Sort<D>];
const z2: 1 = null as any as [IndexablePath<D>];
const z3: 1 = null as any as [Required<Update<D>>["$inc"]];
const z4: 1 = null as any as [Required<Update<D>>["$push"]];
const z5: 1 = null as any as [Required<Filter<D>>["u.a"]];
const z6: 1 = null as any as [InsertDoc<typeof S>];
type ShowE = E;
type ShowPaths = Path<D>;
type ShowIdx = IndexablePath<D>;
type ShowSort = keyof Sort<D>;
