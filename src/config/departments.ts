import { URGENCIES, type Urgency } from "../tickets/levels.js";
import { ADDRESS, fail, type Reader } from "./reader.js";
import type { AgentConfig, DepartmentConfig } from "./schema.js";

const ID = /^[a-z0-9][a-z0-9-]{0,31}$/;
const LANG = /^[a-z]{2}$/;

function addressList(r: Reader, k: string): string[] {
  const list = r.strings(k).map((a) => a.toLowerCase());
  for (const a of list) if (!ADDRESS.test(a)) fail(r.name(k), `holds "${a}", which is not a mail address`);
  return list;
}

export interface PeopleConfig {
  departments: DepartmentConfig[];
  defaultDepartment: string | null;
  agents: AgentConfig[];
  languages: Record<string, string>;
}

/** Departments, agents and per-address languages, checked against each other. */
export function parseDepartments(root: Reader, supportAddress: string): PeopleConfig {
  const departments: DepartmentConfig[] = root.objects("departments").map((d) => {
    d.unknownKeys(["id", "name", "names", "addresses", "aliases", "members", "defaultUrgency", "language"]);
    const id = d.string("id").toLowerCase();
    if (!ID.test(id)) fail(d.name("id"), "must be a short id of letters, digits and dashes, like web");
    const urgency = d.string("defaultUrgency", "impaired");
    if (!(URGENCIES as readonly string[]).includes(urgency)) fail(d.name("defaultUrgency"), `must be one of ${URGENCIES.join(", ")}`);
    const language = d.optionalString("language");
    if (language && !LANG.test(language)) fail(d.name("language"), "must be a two-letter language code");
    const aliases = d.strings("aliases").map((a) => a.toLowerCase());
    for (const a of aliases) if (!ID.test(a)) fail(d.name("aliases"), `holds "${a}"; aliases are short names like webdev`);
    return {
      id,
      name: d.string("name", id),
      names: d.stringMap("names"),
      addresses: addressList(d, "addresses"),
      aliases,
      members: addressList(d, "members"),
      defaultUrgency: urgency as Urgency,
      language,
    };
  });

  const seenKeys = new Map<string, string>();
  const seenAddresses = new Map<string, string>();
  for (const d of departments) {
    for (const key of [d.id, ...d.aliases]) {
      if (seenKeys.has(key)) fail("departments", `"${key}" names both ${seenKeys.get(key)} and ${d.id}`);
      seenKeys.set(key, d.id);
    }
    for (const a of d.addresses) {
      if (a === supportAddress) fail("departments", `${d.id} lists the general support address ${a}; use defaultDepartment for that`);
      if (seenAddresses.has(a)) fail("departments", `${a} routes to both ${seenAddresses.get(a)} and ${d.id}`);
      seenAddresses.set(a, d.id);
    }
  }

  let defaultDepartment = root.optionalString("defaultDepartment")?.toLowerCase() ?? null;
  if (defaultDepartment && !departments.some((d) => d.id === defaultDepartment)) {
    fail(
      "defaultDepartment",
      `names "${defaultDepartment}", which is not a configured department (${departments.map((d) => d.id).join(", ") || "none"})`,
    );
  }
  defaultDepartment ??= departments[0]?.id ?? null;

  const agents: AgentConfig[] = root.objects("agents").map((a) => {
    a.unknownKeys(["address", "name"]);
    const address = a.string("address").toLowerCase();
    if (!ADDRESS.test(address)) fail(a.name("address"), "must be a mail address");
    return { address, name: a.optionalString("name") };
  });

  const languages: Record<string, string> = {};
  for (const [addr, lang] of Object.entries(root.stringMap("languages"))) {
    if (!ADDRESS.test(addr)) fail("languages", `key "${addr}" is not a mail address`);
    if (!LANG.test(lang)) fail(`languages.${addr}`, "must be a two-letter language code");
    languages[addr.toLowerCase()] = lang;
  }
  return { departments, defaultDepartment, agents, languages };
}
