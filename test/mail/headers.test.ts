import { expect } from "chai";
import {
  bareMessageId,
  contentTypeOf,
  displayName,
  envelopeSender,
  headerValue,
  headerValues,
  isOurMessageId,
  ourMessageIdsIn,
} from "../../src/mail/headers.js";

const msg = (headers: Record<string, string[]>) => ({ headers });

describe("mail/headers", () => {
  it("reads the first value trimmed, or null; every value in order", () => {
    const m = msg({ received: [" from a ", "from b"], subject: ["  Hi "] });
    expect(headerValue(m, "subject")).to.equal("Hi");
    expect(headerValue(m, "to")).to.equal(null);
    expect(headerValues(m, "received")).to.deep.equal(["from a", "from b"]);
    expect(headerValues(m, "cc")).to.deep.equal([]);
  });

  it("spells field names for people", () => {
    expect(displayName("auto-submitted")).to.equal("Auto-Submitted");
    expect(displayName("x-ms-exchange-inbox-rules-loop")).to.equal("X-MS-Exchange-Inbox-Rules-Loop");
  });

  it("takes the brackets off a Message-ID", () => {
    expect(bareMessageId("<a.1@example.org>")).to.equal("a.1@example.org");
    expect(bareMessageId(" a.1@example.org ")).to.equal("a.1@example.org");
    expect(bareMessageId("")).to.equal(null);
    expect(bareMessageId(null)).to.equal(null);
  });

  it("reads the media type and the report-type of multipart/report (RFC 6522)", () => {
    expect(contentTypeOf(msg({ "content-type": ['multipart/report; report-type="delivery-status"; boundary=x'] }))).to.deep.equal({
      type: "multipart/report",
      reportType: "delivery-status",
    });
    expect(contentTypeOf(msg({ "content-type": ["Text/Plain; charset=utf-8"] }))).to.deep.equal({ type: "text/plain", reportType: null });
    expect(contentTypeOf(msg({}))).to.deep.equal({ type: "", reportType: null });
  });

  it('reads the envelope sender from Return-Path: the address, "" for the null sender, null when absent', () => {
    expect(envelopeSender(msg({ "return-path": ["<anna@example.org>"] }))).to.equal("anna@example.org");
    expect(envelopeSender(msg({ "return-path": ["<>"] }))).to.equal("");
    expect(envelopeSender(msg({}))).to.equal(null);
  });

  it("knows our Message-IDs by the ticketpost. prefix and exactly our domain", () => {
    expect(isOurMessageId("<ticketpost.4.lx.9a@help.example.net>", "help.example.net")).to.equal(true);
    expect(isOurMessageId("TicketPost.4.lx.9a@HELP.example.NET", "help.example.net")).to.equal(true);
    expect(isOurMessageId("ticketpost.4.lx.9a@mail.help.example.net", "help.example.net")).to.equal(false);
    expect(isOurMessageId("ticketpost.4@other.example.org", "help.example.net")).to.equal(false);
    expect(isOurMessageId("abc.4@help.example.net", "help.example.net")).to.equal(false);
    expect(isOurMessageId("ticketpost.4@x@help.example.net", "help.example.net")).to.equal(false);
    expect(isOurMessageId(null, "help.example.net")).to.equal(false);
  });

  it("finds our Message-IDs quoted in a text, not a longer domain's", () => {
    const text =
      "Message-ID: <ticketpost.4.lx.9a@help.example.net>\nsee ticketpost.5.ly.1b@help.example.net.\nticketpost.6.z@help.example.net.evil.example";
    expect(ourMessageIdsIn(text, "help.example.net")).to.deep.equal([
      "ticketpost.4.lx.9a@help.example.net",
      "ticketpost.5.ly.1b@help.example.net",
    ]);
    expect(ourMessageIdsIn(text, "")).to.deep.equal([]);
  });
});
