import type { AgentConfig, DepartmentConfig } from "../config/schema.js";
import type { MailAddress } from "../mail/types.js";

/**
 * Who is who, from the configuration: departments with their addresses and members, agents,
 * and each person's language. Pure lookups; built once at start.
 */
export interface Person {
  address: string;
  name: string | null;
}

export interface DirectorySpec {
  departments: DepartmentConfig[];
  defaultDepartmentId: string | null;
  agents: AgentConfig[];
  languages: Record<string, string>;
  defaultLanguage: string;
  supportAddress: string;
  otherOwn: string[];
}

export class Directory {
  private readonly byKey = new Map<string, DepartmentConfig>();
  private readonly byAddress = new Map<string, DepartmentConfig>();
  private readonly agentNames = new Map<string, string | null>();

  constructor(
    readonly departments: DepartmentConfig[],
    readonly defaultDepartmentId: string | null,
    readonly agents: AgentConfig[],
    private readonly languages: Record<string, string>,
    readonly defaultLanguage: string,
    readonly supportAddress: string,
    /** Other addresses of ours that route nowhere (the IMAP login, when it is an address). */
    private readonly otherOwn: string[] = [],
  ) {
    for (const d of departments) {
      for (const key of [d.id, ...d.aliases]) this.byKey.set(key, d);
      for (const a of d.addresses) this.byAddress.set(a, d);
      for (const m of d.members) if (!this.agentNames.has(m)) this.agentNames.set(m, null);
    }
    for (const a of agents) this.agentNames.set(a.address, a.name);
  }

  /** The directory as plain data (what a reading thread is given), read back by fromSpec. */
  spec(): DirectorySpec {
    return {
      departments: this.departments,
      defaultDepartmentId: this.defaultDepartmentId,
      agents: this.agents,
      languages: this.languages,
      defaultLanguage: this.defaultLanguage,
      supportAddress: this.supportAddress,
      otherOwn: this.otherOwn,
    };
  }

  static fromSpec(s: DirectorySpec): Directory {
    return new Directory(s.departments, s.defaultDepartmentId, s.agents, s.languages, s.defaultLanguage, s.supportAddress, s.otherOwn);
  }

  /** Empty directory: no departments, no agents (the core gateway without the workflow). */
  static empty(supportAddress: string, language: string): Directory {
    return new Directory([], null, [], {}, language, supportAddress);
  }

  department(idOrAlias: string | null | undefined): DepartmentConfig | null {
    if (!idOrAlias) return null;
    return this.byKey.get(idOrAlias.trim().toLowerCase()) ?? this.byName(idOrAlias);
  }

  private byName(name: string): DepartmentConfig | null {
    const n = name.trim().toLowerCase();
    return this.departments.find((d) => d.name.toLowerCase() === n || Object.values(d.names).some((x) => x.toLowerCase() === n)) ?? null;
  }

  get defaultDepartment(): DepartmentConfig | null {
    return this.department(this.defaultDepartmentId);
  }

  /** Every address mail to which reaches us: never a participant, never answered automatically. */
  ownAddresses(): string[] {
    return [this.supportAddress, ...this.byAddress.keys(), ...this.otherOwn];
  }

  /** The department an address routes to: a dedicated or alias address, or support+tag@ / dept+tag@. */
  departmentForAddress(address: string): { department: DepartmentConfig | null; general: boolean } | null {
    const a = address.toLowerCase();
    const direct = this.byAddress.get(a);
    if (direct) return { department: direct, general: false };
    if (a === this.supportAddress) return { department: null, general: true };
    const plus = /^([^+@]+)\+([^@]+)@(.+)$/.exec(a);
    if (!plus) return null;
    const base = `${plus[1]}@${plus[3]}`;
    const baseDept = this.byAddress.get(base);
    if (baseDept) return { department: baseDept, general: false };
    if (base === this.supportAddress) {
      const tagged = this.department(plus[2]);
      return tagged ? { department: tagged, general: false } : { department: null, general: true };
    }
    return null;
  }

  /** Our own address in any form: support, a department's, or a plus-address of either. */
  isOwn(address: string): boolean {
    return this.departmentForAddress(address) !== null || this.otherOwn.includes(address.toLowerCase());
  }

  isAgent(address: string | null | undefined): boolean {
    return !!address && this.agentNames.has(address.toLowerCase());
  }

  agent(address: string): Person | null {
    const a = address.toLowerCase();
    return this.agentNames.has(a) ? { address: a, name: this.agentNames.get(a) ?? null } : null;
  }

  /** The sender as an agent, named as configured (not as their From header says), or null when not an agent. */
  asAgent(from: Person): Person | null {
    const a = this.agent(from.address);
    return a ? { address: a.address, name: a.name ?? from.name } : null;
  }

  /** Finds an agent by address or by configured name (case-insensitive). */
  findAgent(key: string): Person | null {
    const k = key.trim().toLowerCase().replace(/^<|>$/g, "");
    if (this.agentNames.has(k)) return this.agent(k);
    for (const [address, name] of this.agentNames) if (name && name.toLowerCase() === k) return { address, name };
    return null;
  }

  departmentsOf(agentAddress: string): DepartmentConfig[] {
    const a = agentAddress.toLowerCase();
    return this.departments.filter((d) => d.members.includes(a));
  }

  isMember(agentAddress: string, departmentId: string | null): boolean {
    if (!departmentId) return this.isAgent(agentAddress);
    return this.department(departmentId)?.members.includes(agentAddress.toLowerCase()) ?? false;
  }

  members(departmentId: string | null): Person[] {
    const d = this.department(departmentId);
    const list = d ? d.members : [...this.agentNames.keys()];
    return list.map((m) => ({ address: m, name: this.agentNames.get(m) ?? null }));
  }

  /**
   * Per-address override, then a department's language, then the default. For an agent that is
   * their own department (the ticket's when they are a member of it): a department's language is
   * its members' language, and an agent writing to another department's ticket does not read it.
   * For anyone else it is the ticket's department, the one they wrote to.
   */
  languageFor(address: string, departmentId?: string | null): string {
    const a = address.toLowerCase();
    if (this.languages[a]) return this.languages[a];
    const ticketDept = this.department(departmentId);
    const dept = this.isAgent(a) ? (ticketDept?.members.includes(a) ? ticketDept : (this.departmentsOf(a)[0] ?? null)) : ticketDept;
    return dept?.language ?? this.defaultLanguage;
  }

  departmentName(departmentId: string | null, language: string): string | null {
    const d = this.department(departmentId);
    return d ? (d.names[language] ?? d.name) : null;
  }

  /** Languages anyone may get mail in: all need templates. */
  languagesInUse(): string[] {
    return [
      ...new Set([
        this.defaultLanguage,
        ...Object.values(this.languages),
        ...this.departments.flatMap((d) => (d.language ? [d.language] : [])),
      ]),
    ];
  }
}

export function personOf(a: MailAddress): Person {
  return { address: a.address, name: a.name };
}
