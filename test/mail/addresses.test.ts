import { expect } from "chai";
import {
  addressesIn,
  isMailSystemAddress,
  isMailSystemName,
  isNoReplyAddress,
  isReportMachineAddress,
  localPart,
  namesMailSystem,
  normalizeAddress,
  personInReplyTo,
} from "../../src/mail/addresses.js";

describe("mail/addresses", () => {
  it("normalises an address for comparison", () => {
    expect(normalizeAddress(" <Anna.Berg@Example.ORG> ")).to.equal("anna.berg@example.org");
  });

  it("reads every addr-spec of an address list, without names, groups or repeats", () => {
    expect(addressesIn('"Berg, Anna" <Anna@Example.org>, ben@example.org (Ben), team: carl@example.org, anna@example.org;')).to.deep.equal([
      "anna@example.org",
      "ben@example.org",
      "carl@example.org",
    ]);
    expect(addressesIn("MAILER-DAEMON")).to.deep.equal([]);
    expect(addressesIn(null)).to.deep.equal([]);
  });

  it("splits off the local part at the last @", () => {
    expect(localPart("anna@example.org")).to.equal("anna");
    expect(localPart('"a@b"@example.org')).to.equal('"a@b"');
    expect(localPart("anna")).to.equal("anna");
  });

  it("knows the mail system's own addresses (RFC 5321 §4.5.1)", () => {
    for (const a of [
      "MAILER-DAEMON@mx.example.org",
      "mailer_daemon@x.example",
      "mailerdaemon@x.example",
      "postmaster@example.org",
      "Post_Master@example.org",
      "MAILER-DAEMON",
    ])
      expect(isMailSystemAddress(a), a).to.equal(true);
    for (const a of ["mail@example.org", "root@example.org", "bounce@example.org", "daemon.tools@example.org"])
      expect(isMailSystemAddress(a), a).to.equal(false);
    expect(isReportMachineAddress("bounces@lists.example.org")).to.equal(true);
    expect(isReportMachineAddress("mail@example.org")).to.equal(false);
  });

  it("reads a From or Return-Path value that names the mail system, as written", () => {
    for (const v of [
      "Mail Delivery System <MAILER-DAEMON@mx.example.org>",
      "MAILER-DAEMON (Mail Delivery Subsystem)",
      "<MAILER-DAEMON>",
      "<>",
      "postmaster@example.org",
    ])
      expect(namesMailSystem(v), v).to.equal(true);
    for (const v of ["Postmaster Anna <anna@example.org>", "anna@example.org", "", null])
      expect(namesMailSystem(v), String(v)).to.equal(false);
  });

  it("knows the display names mail systems sign with, as a sign only", () => {
    expect(isMailSystemName("Mail Delivery Subsystem")).to.equal(true);
    expect(isMailSystemName("Anna Berg")).to.equal(false);
    expect(isMailSystemName(null)).to.equal(false);
  });

  it("knows no-reply addresses in their spellings", () => {
    for (const a of [
      "no-reply@shop.example",
      "noreply+x@shop.example",
      "do-not-reply@shop.example",
      "DoNotReply@shop.example",
      "no_reply.billing@shop.example",
    ])
      expect(isNoReplyAddress(a), a).to.equal(true);
    expect(isNoReplyAddress("reply@shop.example")).to.equal(false);
  });

  it("finds the person a relay's Reply-To names, if any", () => {
    const from = { address: "no-reply@shop.example" };
    expect(personInReplyTo({ from, replyTo: [{ address: "no-reply@shop.example" }, { address: "paula@player.example" }] })).to.equal(
      "paula@player.example",
    );
    expect(personInReplyTo({ from, replyTo: [{ address: "donotreply@shop.example" }, { address: "postmaster@shop.example" }] })).to.equal(
      null,
    );
    expect(personInReplyTo({ from: null, replyTo: [] })).to.equal(null);
  });
});
