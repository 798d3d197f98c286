/**
 * Help texts of the `lsmdoc` command line: the overview and one page per command. They are the
 * CLI's documentation, so they state the JSON conventions (dates, binary) and the exit codes.
 */

export const USAGE = `usage: lsmdoc <command> <dir> [args]

commands:
  stats <dir>                                  levels, files, sizes, sequence number, collections
  collections <dir>                            collection names, one per line
  find <dir> <collection> [filter] [--limit N] matching documents as NDJSON
  export <dir> <collection>                    every document as NDJSON
  import <dir> <collection> < file.ndjson      insert NDJSON documents, validated by the stored schema
  verify <dir>                                 check every checksum of every live file
  compact <dir>                                compact all data into the last level

options:
  --help             show this help (also: lsmdoc <command> --help)

exit codes: 0 done, 1 failed (damage found, lines rejected, directory in use), 2 usage error
`;

const JSON_NOTE = `Documents are printed as JSON, one per line, _id first. Values JSON cannot hold are written as:
  Date     -> ISO 8601 string ("2024-05-01T12:00:00.000Z")
  binary   -> base64 string
  bigint   -> decimal string
  NaN, +-Infinity -> null
`;

export const HELP: Record<string, string> = {
  stats: "usage: lsmdoc stats <dir>\n\nPrints the engine's levels, files, sizes and sequence number, and the collections, as JSON.\n",
  collections: "usage: lsmdoc collections <dir>\n\nPrints the names of the collections stored in <dir>, one per line.\n",
  find: `usage: lsmdoc find <dir> <collection> [json-filter] [--limit N]

Prints the documents of <collection> that match the filter (default {}), as NDJSON. The filter is a
JSON object with the library's operators ($eq $ne $gt $gte $lt $lte $in $nin $exists $and $or $not,
dot paths) and runs through the same query planner and indexes as the library. Inside a filter,
{"$date": "<ISO 8601>"} stands for a Date and {"$binary": "<base64>"} for binary data.

  lsmdoc find ./data users '{"age": {"$gte": 30}, "city": "London"}' --limit 10

${JSON_NOTE}`,
  export: `usage: lsmdoc export <dir> <collection>

Prints every document of <collection>, with its _id, as NDJSON in _id order. Streams: memory use does
not grow with the collection. Reads one consistent snapshot.

${JSON_NOTE}`,
  import: `usage: lsmdoc import <dir> <collection> < file.ndjson

Reads one JSON document per line from stdin and inserts the valid ones, in atomic batches of 1000
(each document together with all of its index entries; unique indexes are enforced as the library
does). A line's _id is kept; documents without one get a generated _id.

Each line is validated against the JSON Schema the application stored for the collection (zod's
toJSONSchema of its schema, input side). Keys the schema does not name are dropped, as zod objects
do. Fields JSON Schema cannot express (dates, binary, bigints, transforms) are accepted as any JSON
value: an exported Date comes back as its ISO string, binary as its base64 string. Blank lines are
skipped.

A rejected line (bad JSON, schema failure, duplicate _id or unique value) writes nothing and is
reported on stderr as "line N: reason" (lines count from 1); progress is reported on stderr every
10000 lines. Exits 1 when any line was rejected, 0 otherwise.
`,
  verify: "usage: lsmdoc verify <dir>\n\nReads every block of every live table, the manifest and the live logs, checking every checksum.\nExits 1 and names the file and offset when damage is found.\n",
  compact: "usage: lsmdoc compact <dir>\n\nFlushes and compacts every table into the last level, dropping overwritten and deleted versions.\n",
};
