import { expect } from "chai";
import { findTaggedTickets, stripReplyPrefixes, subjectWithTag, titleFromSubject, type TicketTagFormat } from "../../src/mail/subject.js";

const T: TicketTagFormat = { prefix: "T" };

describe("mail/subject", () => {
  describe("stripReplyPrefixes", () => {
    const cases: Array<[string, string, string]> = [
      // [what a client writes, what is left, why]
      ["Re: printer", "printer", "English reply"],
      ["RE:printer", "printer", "Outlook upper case, no space"],
      ["re: printer", "printer", "lower case"],
      ["Fwd: printer", "printer", "forward (Gmail, Thunderbird)"],
      ["Fw: printer", "printer", "forward (Outlook)"],
      ["FW: printer", "printer", "forward, upper case"],
      ["AW: printer", "printer", "German reply (Antwort)"],
      ["WG: printer", "printer", "German forward (Weitergeleitet)"],
      ["SV: printer", "printer", "Scandinavian reply (Svar)"],
      ["VS: printer", "printer", "Finnish forward (Välitetty)"],
      ["Antw: printer", "printer", "Dutch reply"],
      ["Antwort: printer", "printer", "German reply, written out"],
      ["Doorst: printer", "printer", "Dutch forward (Doorgestuurd)"],
      ["TR: printer", "printer", "French forward (Transféré)"],
      ["RIF: printer", "printer", "Italian reply (Riferimento)"],
      ["Odp: printer", "printer", "Polish reply (Odpowiedź)"],
      ["Re[2]: printer", "printer", "reply with a counter in brackets"],
      ["Re(3): printer", "printer", "reply with a counter in parentheses"],
      ["Re^2: printer", "printer", "reply with a caret counter"],
      ["AW: WG: Re: printer", "printer", "a chain of prefixes in several languages"],
      ["Fwd:Fw:  RE : printer", "printer", "chain with odd spacing and a space before the colon"],
      ["Re： printer", "printer", "full-width colon"],
      ["回复：打印机", "打印机", "Chinese reply with full-width colon"],
      ["[support-list] Re: printer", "printer", "list name in front of a prefix"],
      ["Reboot server", "Reboot server", "a word that starts like Re is not a prefix"],
      ["Aware of the outage", "Aware of the outage", "a word that starts like AW is not a prefix"],
      ["Trouble: printer", "Trouble: printer", "a word that starts like TR, with a colon, is not a prefix"],
      ["Resolved: printer", "Resolved: printer", "a word that starts like Re, with a colon, is not a prefix"],
      ["Fwd printer", "Fwd printer", "no colon, no prefix"],
      ["Re: Reboot server", "Reboot server", "only the prefix goes, not the word after it"],
      ["[support-list] printer", "[support-list] printer", "a list name with no prefix after it stays"],
      ["printer: Re: toner", "printer: Re: toner", "a prefix in the middle is text"],
      ["  Re:   printer  ", "printer", "surrounding whitespace"],
      ["RV: Fallo del escáner", "Fallo del escáner", "Spanish Outlook forward"],
      ["İLT: Yazıcı kağıt sıkıştırıyor", "Yazıcı kağıt sıkıştırıyor", "Turkish Outlook forward, dotted capital İ"],
      ["ΑΠ: ΠΡΘ: Δεν ανοίγει το Excel", "Δεν ανοίγει το Excel", "Greek Outlook reply and forward"],
      ["회신: 전달: 프린터 토너", "프린터 토너", "Korean Outlook reply and forward"],
      ["השב: העבר: אין חיבור לרשת", "אין חיבור לרשת", "Hebrew Outlook reply and forward"],
      ["Vá: Továbbítás: Nem működik a VPN", "Nem működik a VPN", "Hungarian Outlook reply and forward"],
      ["Rvalue: x", "Rvalue: x", "a word that merely starts like a prefix stays"],
      ["Re:", "", "nothing but a prefix"],
      ["", "", "empty subject"],
    ];
    for (const [input, expected, why] of cases) {
      it(`${JSON.stringify(input)} → ${JSON.stringify(expected)} (${why})`, () => {
        expect(stripReplyPrefixes(input)).to.equal(expected);
      });
    }
  });

  describe("titleFromSubject", () => {
    const cases: Array<[string, string, string]> = [
      ["Printer on floor 3 is jammed", "Printer on floor 3 is jammed", "an ordinary subject is kept"],
      ["AW: WG: Re: Printer jammed", "Printer jammed", "prefix chain removed"],
      ["[#T-12] Re: Printer jammed", "Printer jammed", "our tag in front, then a prefix"],
      ["Re: [#T-12] Printer jammed", "Printer jammed", "our tag after a prefix"],
      ["Re: [#T-12] Re: Printer jammed", "Printer jammed", "a prefix left behind the tag"],
      ["Re: Printer jammed [#T-12]", "Printer jammed", "our tag at the end"],
      ["AW: Printer [#T-12] jammed", "Printer jammed", "our tag in the middle, whitespace folded"],
      ["Re: [#t-12] Printer jammed", "Printer jammed", "our tag in lower case"],
      ["[#T-12][#T-13] Printer jammed", "Printer jammed", "several tags"],
      ["Re: [#X-12] Printer jammed", "[#X-12] Printer jammed", "a tag with another prefix letter is not ours and stays"],
      ["Reboot server please", "Reboot server please", "a word that starts like a prefix"],
      ["Aware of the outage?", "Aware of the outage?", "AW... word kept"],
      ["Printer \t  jammed\r\n again", "Printer jammed again", "whitespace and line breaks folded"],
      ["", "(no subject)", "empty subject"],
      ["   ", "(no subject)", "blank subject"],
      ["Re:", "(no subject)", "a prefix alone"],
      ["[#T-12]", "(no subject)", "a tag alone"],
      ["Re: [#T-12]", "(no subject)", "a prefix and a tag only"],
    ];
    for (const [input, expected, why] of cases) {
      it(`${JSON.stringify(input)} → ${JSON.stringify(expected)} (${why})`, () => {
        expect(titleFromSubject(input, T)).to.equal(expected);
      });
    }

    it("uses the given fallback for an empty title", () => {
      expect(titleFromSubject("Re: ", T, "(ohne Betreff)")).to.equal("(ohne Betreff)");
    });

    it("removes the tag of a configured multi-letter prefix", () => {
      expect(titleFromSubject("Re: [#HELP-7] VPN down", { prefix: "HELP" })).to.equal("VPN down");
    });
  });

  describe("findTaggedTickets", () => {
    const cases: Array<[string, number[], string]> = [
      ["[#T-12] Printer", [12], "tag in front"],
      ["AW: WG: [#T-12] Printer", [12], "tag after prefixes"],
      ["Re: Printer [#T-12] jammed", [12], "tag in the middle"],
      ["Printer jammed [#T-1042]", [1042], "tag at the end"],
      ["[#T-12] merged with [#T-7]", [12, 7], "several tags, in order of appearance"],
      ["[#T-12][#T-13]", [12, 13], "adjacent tags"],
      ["Re: [#t-12] Printer", [12], "lower-case tag"],
      ["Re: [#X-12] Printer", [], "another prefix letter is not ours"],
      ["Re: [#TT-12] Printer", [], "a longer prefix is not ours"],
      ["Re: [T-12] Printer", [], "no # is not our tag"],
      ["Re: #T-12 Printer", [], "no brackets is not our tag"],
      ["Re: [#T-] Printer", [], "no number"],
      ["Re: [#T-12a] Printer", [], "not only digits"],
      ["Re: Printer", [], "no tag"],
      ["", [], "empty subject"],
    ];
    for (const [input, expected, why] of cases) {
      it(`${JSON.stringify(input)} → [${expected.join(", ")}] (${why})`, () => {
        expect(findTaggedTickets(input, T)).to.deep.equal(expected);
      });
    }

    it("follows the configured prefix", () => {
      expect(findTaggedTickets("Re: [#HELP-7] [#T-8]", { prefix: "HELP" })).to.deep.equal([7]);
    });
  });

  describe("subjectWithTag", () => {
    const cases: Array<[string, number, string, string]> = [
      ["Printer jammed", 12, "[#T-12] Printer jammed", "tag in front of the title"],
      ["  Printer jammed  ", 1042, "[#T-1042] Printer jammed", "title trimmed"],
      ["Printer\r\nBcc: evil@example.com", 5, "[#T-5] Printer Bcc: evil@example.com", "CRLF cannot start a header line"],
      ["Printer\nX-Evil: 1", 5, "[#T-5] Printer X-Evil: 1", "bare LF cannot start a header line"],
      ["Printer\rX-Evil: 1", 5, "[#T-5] Printer X-Evil: 1", "bare CR cannot start a header line"],
      ["Printer\r\n\r\nbody", 5, "[#T-5] Printer body", "blank line cannot end the header section"],
    ];
    for (const [title, id, expected, why] of cases) {
      it(`${JSON.stringify(title)} → ${JSON.stringify(expected)} (${why})`, () => {
        const subject = subjectWithTag(title, T, id);
        expect(subject).to.equal(expected);
        expect(subject).not.to.match(/[\r\n]/);
      });
    }

    it("produces a subject whose tag is found again and whose title survives a round trip", () => {
      const subject = subjectWithTag("AW: Printer jammed", T, 77);
      expect(findTaggedTickets(`Re: ${subject}`, T)).to.deep.equal([77]);
      expect(titleFromSubject(`Re: ${subject}`, T)).to.equal("Printer jammed");
    });
  });
});
