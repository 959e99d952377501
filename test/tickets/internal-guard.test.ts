import { expect } from "chai";
import { findInternalText } from "../../src/tickets/internal-guard.js";

interface GuardCase {
  name: string;
  /** What would go to the requester. */
  public: string;
  /** The ticket's internal texts. */
  internal: string[];
  /** What the requester already knows. */
  known?: string[];
  /** The internal lines (normalised) that must be reported, in order; [] when the text is safe. */
  found: string[];
}

const NOTE = [
  "Customer has two unpaid invoices from January and February;",
  "finance says no free on-site visit until both are paid.",
  "Thanks",
].join("\n");
const HELD = "Hello,\n\nplease ignore my colleague, the contract ended on 31 January and we owe nothing.\n\nBest regards, Bob";

const cases: GuardCase[] = [
  {
    name: "an answer without internal text is safe",
    public: "Hej Dorte, udskift venligst tonerpatronen - en ny er sendt til dig i dag.",
    internal: [NOTE],
    found: [],
  },
  {
    name: 'the note quoted below the answer with ">" marks is found, line by line',
    public:
      "We will come on Monday.\n\n> Customer has two unpaid invoices from January and February;\n> finance says no free on-site visit until both are paid.",
    internal: [NOTE],
    found: ["customer has two unpaid invoices from january and february;", "finance says no free on-site visit until both are paid."],
  },
  {
    name: "the note re-wrapped at another width and quoted at depth 2 is still found",
    public:
      "Sure.\n\n>> Customer has two unpaid invoices from January\n>> and February; finance says no free\n>> on-site visit until both are paid.",
    internal: [NOTE],
    found: ["customer has two unpaid invoices from january and february;", "finance says no free on-site visit until both are paid."],
  },
  {
    name: "the note indented by a notification mail and then turned into HTML text is found (case and blanks ignored)",
    public: "See below.\n\n    CUSTOMER HAS TWO   UNPAID INVOICES FROM JANUARY AND FEBRUARY;\n",
    internal: [NOTE],
    found: ["customer has two unpaid invoices from january and february;"],
  },
  {
    name: "a part of a long internal sentence (eight words in a row) is found",
    public: "As discussed: no free on-site visit until both are paid, sorry.",
    internal: [NOTE],
    found: ["finance says no free on-site visit until both are paid."],
  },
  {
    name: 'short generic lines ("Hello,", "Thanks", "Best regards, Bob") never trigger',
    public: "Hello,\n\nyour laptop is ready.\n\nThanks\n\nBest regards, Bob",
    internal: [NOTE, HELD],
    found: [],
  },
  {
    name: "a short phrase shared with a note (fewer than eight words) does not trigger",
    public: "The invoices from January and February are attached.",
    internal: [NOTE],
    found: [],
  },
  {
    name: "a whole internal line of six words is found even when the run is shorter than eight",
    public: "Note: Server room key is at reception.",
    internal: ["Server room key is at reception\nDo not tell the customer."],
    found: ["server room key is at reception"],
  },
  {
    name: "the requester's own words quoted back are not a leak, even when a note repeats them",
    public: "> The printer on floor 2 prints blank pages since the toner change.\n\nWe will replace the drum.",
    internal: ["Requester wrote: The printer on floor 2 prints blank pages since the toner change. Probably her fault."],
    known: ["Hello, the printer on floor 2 prints blank pages since the toner change.\nDorte"],
    found: [],
  },
  {
    name: "what the requester knows is subtracted word run by word run: the rest of the line is still found",
    public: "The printer on floor 2 prints blank pages since the toner change and finance says no free on-site visit until both are paid.",
    internal: [NOTE],
    known: ["the printer on floor 2 prints blank pages since the toner change"],
    found: ["finance says no free on-site visit until both are paid."],
  },
  {
    name: "a mail held back as internal (a stranger's) is found in the public text, with its index",
    public: "Dear customer,\n\nplease ignore my colleague, the contract ended on 31 January and we owe nothing.",
    internal: [NOTE, HELD],
    found: ["please ignore my colleague, the contract ended on 31 january and we owe nothing."],
  },
  {
    name: "Japanese internal text re-wrapped at another point is found (characters compared one by one)",
    public: "承知しました。\n\n> 請求書が二件未払いのため、支払いが確認される\n> まで無料訪問はできません。",
    internal: ["請求書が二件未払いのため、支払いが確認されるまで無料訪問はできません。"],
    found: ["請求書が二件未払いのため、支払いが確認されるまで無料訪問はできません。"],
  },
  {
    name: "a short note (five words) quoted whole below the answer, without any quote marks, is found",
    public:
      "Hello Frank, your new badge will be ready tomorrow.\n\n>>> Bob Berger 03/02/26 10:00 AM >>>\n#note\nCustomer owes us 5000 euros.",
    internal: ["Customer owes us 5000 euros."],
    found: ["customer owes us 5000 euros."],
  },
  {
    name: "a three-word note carried whole is found",
    public: "We will replace it today.\n\nNo free replacement",
    internal: ["No free replacement"],
    found: ["no free replacement"],
  },
  {
    name: "a short note whose words the requester wrote themselves is not a finding",
    public: "As you said: customer owes us nothing.",
    internal: ["Customer owes us nothing"],
    known: ["Please note: customer owes us nothing, the invoice was paid."],
    found: [],
  },
  {
    name: "two words of a short note are not enough",
    public: "Thanks, see you on Monday.",
    internal: ["See you"],
    found: [],
  },
  {
    name: "a short note's words in another order are not a finding",
    public: "Euros 5000: the customer owes us nothing more.",
    internal: ["Customer owes us 5000 euros."],
    found: [],
  },
  {
    name: "the note with soft hyphens and zero-width spaces inside its words (HTML mail turned into text) is found",
    public: "Sure.\n\n    Customer has two un\u00adpaid in\u00advoices from Janu\u200bary and February;",
    internal: [NOTE],
    found: ["customer has two unpaid invoices from january and february;"],
  },
  {
    name: "empty texts",
    public: "",
    internal: ["", NOTE],
    found: [],
  },
];

describe("tickets/internal-guard: findInternalText", () => {
  for (const c of cases) {
    it(c.name, () => {
      const got = findInternalText(c.public, c.internal, c.known ?? []);
      expect(got.map((f) => f.line)).to.deep.equal(c.found);
    });
  }

  it("reports the source index and the number of words carried", () => {
    const got = findInternalText("x\n\nplease ignore my colleague, the contract ended on 31 January and we owe nothing.", [NOTE, HELD]);
    expect(got).to.have.length(1);
    expect(got[0].source).to.equal(1);
    expect(got[0].words).to.equal(14);
  });
});
