//! The fast path over a well-formed log file: a parser of exactly the
//! CloudTrail record shape, for the files S3 delivers (nearly all input).
//!
//! serde_json's derive path spent most of an audit in generic machinery:
//! a visitor call per key, a `Result` per token and a byte-at-a-time tail
//! on every short string. This reads the same fields straight from the
//! bytes, and skips the rest while checking it is valid JSON.
//!
//! It is only ever a shortcut. On anything it does not fully understand
//! (an escaped key, a field of an unexpected type, a duplicate field, deep
//! nesting, invalid JSON) it stops, and the serde path reads the file again
//! from the first record it had not handed over. So for any input it
//! accepts, it must hand over exactly the records the serde path would:
//! `the_fast_path_agrees_with_serde` (below) and the `cloudtrail` fuzz
//! target check that, record by record and problem by problem.

use super::{RawIdentity, RawIssuer, RawOnBehalfOf, RawRecord, RawResource, RawSession};
use std::borrow::Cow;

/// Why the fast path stopped; the serde path will say what is wrong.
#[derive(Debug)]
pub(super) struct Stop;

type R<T> = Result<T, Stop>;

/// Nesting deeper than this inside a skipped value is left to the serde path.
const MAX_DEPTH: u32 = 64;

/// Reads every record of `text` (an S3 envelope or a JSON array of
/// records), calling `visit` with each as it is parsed. Returns the number
/// of records, or, if it stopped, how many records it had handed over.
pub(super) fn records<'b>(
    text: &'b str,
    visit: &mut impl FnMut(usize, RawRecord<'b>),
) -> Result<usize, usize> {
    let mut p = Parser {
        s: text.as_bytes(),
        text,
        i: 0,
    };
    let mut seen = 0usize;
    match p.file(visit, &mut seen) {
        Ok(()) => Ok(seen),
        Err(Stop) => Err(seen),
    }
}

struct Parser<'b> {
    s: &'b [u8],
    text: &'b str,
    i: usize,
}

/// Fields of one object already read: serde rejects a duplicate field.
#[derive(Default)]
struct Seen(u32);

impl Seen {
    fn once(&mut self, bit: u32) -> R<()> {
        if self.0 & (1 << bit) != 0 {
            return Err(Stop);
        }
        self.0 |= 1 << bit;
        Ok(())
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The high bit of the first byte (in memory order) of `x` that is a quote,
/// a backslash or a control character is set, and nothing below it.
#[inline]
fn special(x: u64) -> u64 {
    let zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS;
    zero(x ^ (ONES * u64::from(b'"')))
        | zero(x ^ (ONES * u64::from(b'\\')))
        | (x.wrapping_sub(ONES * 0x20) & !x & HIGHS)
}

impl<'b> Parser<'b> {
    #[inline]
    fn ws(&mut self) {
        while let Some(&b) = self.s.get(self.i) {
            match b {
                b' ' | b'\n' | b'\t' | b'\r' => self.i += 1,
                _ => break,
            }
        }
    }

    /// The next byte after whitespace, not consumed.
    #[inline]
    fn peek(&mut self) -> R<u8> {
        self.ws();
        self.s.get(self.i).copied().ok_or(Stop)
    }

    #[inline]
    fn eat(&mut self, b: u8) -> R<()> {
        if self.peek()? == b {
            self.i += 1;
            Ok(())
        } else {
            Err(Stop)
        }
    }

    fn literal(&mut self, word: &[u8]) -> R<()> {
        if self.s[self.i..].starts_with(word) {
            self.i += word.len();
            Ok(())
        } else {
            Err(Stop)
        }
    }

    /// From just after an opening quote to just after the closing one.
    /// Returns whether the string has escapes. Most strings are a key or
    /// a short value: inlined, a call's set-up no longer outweighs the scan.
    #[inline(always)]
    fn string_rest(&mut self) -> R<bool> {
        let s = self.s;
        let mut i = self.i;
        let mut escaped = false;
        loop {
            // Eight bytes at a time to the first quote, backslash or
            // control character, then byte by byte near the end.
            let b = loop {
                match s.get(i..i + 8) {
                    Some(chunk) => {
                        let mut word = [0u8; 8];
                        word.copy_from_slice(chunk);
                        let m = special(u64::from_le_bytes(word));
                        if m != 0 {
                            i += (m.trailing_zeros() / 8) as usize;
                            break s[i];
                        }
                        i += 8;
                    }
                    None => {
                        let b = *s.get(i).ok_or(Stop)?;
                        if b == b'"' || b == b'\\' || b < 0x20 {
                            break b;
                        }
                        i += 1;
                    }
                }
            };
            match b {
                b'"' => {
                    self.i = i + 1;
                    return Ok(escaped);
                }
                b'\\' => {
                    escaped = true;
                    match s.get(i + 1) {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => i += 2,
                        Some(b'u') => {
                            let hex = s.get(i + 2..i + 6).ok_or(Stop)?;
                            if !hex.iter().all(u8::is_ascii_hexdigit) {
                                return Err(Stop);
                            }
                            i += 6;
                        }
                        _ => return Err(Stop),
                    }
                }
                // A control character: invalid inside a string.
                _ => return Err(Stop),
            }
        }
    }

    /// An object key without escapes (an escaped one goes the serde way).
    #[inline]
    fn key(&mut self) -> R<&'b [u8]> {
        self.eat(b'"')?;
        let start = self.i;
        if self.string_rest()? {
            return Err(Stop);
        }
        let key = &self.s[start..self.i - 1];
        self.eat(b':')?;
        Ok(key)
    }

    /// Calls `field` with each key of an object, the value next; `field`
    /// reads or skips the value.
    #[inline]
    fn object(&mut self, mut field: impl FnMut(&mut Self, &'b [u8]) -> R<()>) -> R<()> {
        self.eat(b'{')?;
        if self.peek()? == b'}' {
            self.i += 1;
            return Ok(());
        }
        loop {
            let key = self.key()?;
            field(self, key)?;
            match self.peek()? {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    return Ok(());
                }
                _ => return Err(Stop),
            }
        }
    }

    /// Calls `item` for each element of an array.
    #[inline]
    fn array(&mut self, mut item: impl FnMut(&mut Self) -> R<()>) -> R<()> {
        self.eat(b'[')?;
        if self.peek()? == b']' {
            self.i += 1;
            return Ok(());
        }
        loop {
            item(self)?;
            match self.peek()? {
                b',' => self.i += 1,
                b']' => {
                    self.i += 1;
                    return Ok(());
                }
                _ => return Err(Stop),
            }
        }
    }

    /// `null` or a string, borrowed unless it has escapes.
    #[inline]
    fn opt_str(&mut self) -> R<Option<Cow<'b, str>>> {
        match self.peek()? {
            b'"' => {
                let open = self.i;
                self.i += 1;
                let escaped = self.string_rest()?;
                let quoted = &self.text[open..self.i];
                if escaped {
                    // Rare: serde_json's own unescaping (and its refusal of
                    // a lone surrogate), so the text is exactly serde's.
                    serde_json::from_str::<String>(quoted)
                        .map(|s| Some(Cow::Owned(s)))
                        .map_err(|_| Stop)
                } else {
                    Ok(Some(Cow::Borrowed(&quoted[1..quoted.len() - 1])))
                }
            }
            b'n' => self.literal(b"null").map(|()| None),
            _ => Err(Stop),
        }
    }

    /// A string as [`Self::opt_str`] reads it; any other value is skipped
    /// (checked to be JSON) and reads as absent, as serde's `lenient` does.
    fn lenient_str(&mut self) -> R<Option<Cow<'b, str>>> {
        match self.peek()? {
            b'"' | b'n' => self.opt_str(),
            _ => self.skip().map(|()| None),
        }
    }

    /// A value's JSON text as it is in the file, or `None` for `null`.
    fn raw(&mut self) -> R<Option<&'b str>> {
        match self.peek()? {
            b'n' => self.literal(b"null").map(|()| None),
            _ => {
                let start = self.i;
                self.skip()?;
                Ok(Some(&self.text[start..self.i]))
            }
        }
    }

    fn opt_bool(&mut self) -> R<Option<bool>> {
        match self.peek()? {
            b't' => self.literal(b"true").map(|()| Some(true)),
            b'f' => self.literal(b"false").map(|()| Some(false)),
            b'n' => self.literal(b"null").map(|()| None),
            _ => Err(Stop),
        }
    }

    /// `null`, or `Some` of an object read by `read`.
    #[inline]
    fn opt_object<T>(&mut self, read: impl FnOnce(&mut Self) -> R<T>) -> R<Option<T>> {
        match self.peek()? {
            b'{' => read(self).map(Some),
            b'n' => self.literal(b"null").map(|()| None),
            _ => Err(Stop),
        }
    }

    /// The digits of a number, as JSON's grammar has them (serde's
    /// `ignore_integer`, `ignore_decimal` and `ignore_exponent`).
    fn number(&mut self) -> R<()> {
        let s = self.s;
        let digits = |i: &mut usize| {
            let start = *i;
            while s.get(*i).is_some_and(u8::is_ascii_digit) {
                *i += 1;
            }
            *i > start
        };
        let mut i = self.i;
        if s.get(i) == Some(&b'-') {
            i += 1;
        }
        match s.get(i) {
            Some(b'0') => {
                i += 1;
                if s.get(i).is_some_and(u8::is_ascii_digit) {
                    return Err(Stop);
                }
            }
            Some(b'1'..=b'9') => {
                digits(&mut i);
            }
            _ => return Err(Stop),
        }
        if s.get(i) == Some(&b'.') {
            i += 1;
            if !digits(&mut i) {
                return Err(Stop);
            }
        }
        if let Some(b'e' | b'E') = s.get(i) {
            i += 1;
            if let Some(b'+' | b'-') = s.get(i) {
                i += 1;
            }
            if !digits(&mut i) {
                return Err(Stop);
            }
        }
        self.i = i;
        Ok(())
    }

    /// Skips one value of any kind, checking that it is valid JSON.
    /// Iterative, as serde's `ignore_value` is: nesting costs no stack.
    fn skip(&mut self) -> R<()> {
        // One bit per open container: set for an object.
        let mut stack = 0u64;
        let mut depth = 0u32;
        loop {
            // A value.
            match self.peek()? {
                b'"' => {
                    self.i += 1;
                    self.string_rest()?;
                }
                b'{' | b'[' => {
                    let object = self.s[self.i] == b'{';
                    self.i += 1;
                    depth += 1;
                    if depth > MAX_DEPTH {
                        return Err(Stop);
                    }
                    stack = stack << 1 | u64::from(object);
                    let close = if object { b'}' } else { b']' };
                    if self.peek()? == close {
                        self.i += 1;
                        depth -= 1;
                        stack >>= 1;
                    } else {
                        if object {
                            self.key()?;
                        }
                        continue;
                    }
                }
                b't' => self.literal(b"true")?,
                b'f' => self.literal(b"false")?,
                b'n' => self.literal(b"null")?,
                _ => self.number()?,
            }
            // After a value: the next element, or the ends of containers.
            loop {
                if depth == 0 {
                    return Ok(());
                }
                let object = stack & 1 == 1;
                match self.peek()? {
                    b',' => {
                        self.i += 1;
                        if object {
                            self.key()?;
                        }
                        break;
                    }
                    b'}' if object => {}
                    b']' if !object => {}
                    _ => return Err(Stop),
                }
                self.i += 1;
                depth -= 1;
                stack >>= 1;
            }
        }
    }

    /// The whole file: `{"Records": [...], ...}` or `[...]`, then only
    /// whitespace.
    fn file(&mut self, visit: &mut impl FnMut(usize, RawRecord<'b>), seen: &mut usize) -> R<()> {
        match self.peek()? {
            b'[' => self.records(visit, seen)?,
            b'{' => {
                let mut found = false;
                self.object(|p, key| {
                    if key == b"Records" && !found {
                        found = true;
                        p.records(visit, seen)
                    } else {
                        p.skip()
                    }
                })?;
                if !found {
                    return Err(Stop);
                }
            }
            _ => return Err(Stop),
        }
        self.ws();
        if self.i == self.s.len() {
            Ok(())
        } else {
            Err(Stop)
        }
    }

    fn records(&mut self, visit: &mut impl FnMut(usize, RawRecord<'b>), seen: &mut usize) -> R<()> {
        self.array(|p| {
            if p.peek()? != b'{' {
                return Err(Stop);
            }
            let r = p.record()?;
            visit(*seen, r);
            *seen += 1;
            Ok(())
        })
    }

    fn record(&mut self) -> R<RawRecord<'b>> {
        let mut r = RawRecord::default();
        let mut seen = Seen::default();
        self.object(|p, key| {
            match key {
                b"eventID" => {
                    seen.once(0)?;
                    r.event_id = p.opt_str()?;
                }
                b"eventTime" => {
                    seen.once(1)?;
                    r.event_time = p.opt_str()?;
                }
                b"eventSource" => {
                    seen.once(2)?;
                    r.event_source = p.opt_str()?;
                }
                b"eventName" => {
                    seen.once(3)?;
                    r.event_name = p.opt_str()?;
                }
                b"awsRegion" => {
                    seen.once(4)?;
                    r.aws_region = p.opt_str()?;
                }
                b"errorCode" => {
                    seen.once(5)?;
                    r.error_code = p.opt_str()?;
                }
                b"eventType" => {
                    seen.once(6)?;
                    r.event_type = p.opt_str()?;
                }
                b"eventCategory" => {
                    seen.once(7)?;
                    r.event_category = p.opt_str()?;
                }
                b"managementEvent" => {
                    seen.once(8)?;
                    r.management_event = p.opt_bool()?;
                }
                b"recipientAccountId" => {
                    seen.once(9)?;
                    r.recipient_account_id = p.opt_str()?;
                }
                b"userIdentity" => {
                    seen.once(10)?;
                    r.user_identity = p.opt_object(Self::identity)?;
                }
                b"resources" => {
                    seen.once(11)?;
                    r.resources = match p.peek()? {
                        b'[' => {
                            let mut list = Vec::new();
                            p.array(|p| {
                                if p.peek()? != b'{' {
                                    return Err(Stop);
                                }
                                list.push(p.resource()?);
                                Ok(())
                            })?;
                            Some(list)
                        }
                        b'n' => p.literal(b"null").map(|()| None)?,
                        _ => return Err(Stop),
                    };
                }
                b"requestParameters" => {
                    seen.once(12)?;
                    r.request_parameters = p.raw()?;
                }
                b"errorMessage" => {
                    seen.once(13)?;
                    r.error_message = p.lenient_str()?;
                }
                b"userAgent" => {
                    seen.once(14)?;
                    r.user_agent = p.lenient_str()?;
                }
                b"sourceIPAddress" => {
                    seen.once(15)?;
                    r.source_ip_address = p.lenient_str()?;
                }
                b"sharedEventID" => {
                    seen.once(16)?;
                    r.shared_event_id = p.lenient_str()?;
                }
                b"vpcEndpointId" => {
                    seen.once(17)?;
                    r.vpc_endpoint_id = p.lenient_str()?;
                }
                b"responseElements" => {
                    seen.once(18)?;
                    r.response_elements = p.raw()?;
                }
                b"additionalEventData" => {
                    seen.once(19)?;
                    r.additional_event_data = p.raw()?;
                }
                b"sessionCredentialFromConsole" => {
                    seen.once(20)?;
                    r.session_credential_from_console = p.raw()?;
                }
                _ => p.skip()?,
            }
            Ok(())
        })?;
        Ok(r)
    }

    fn identity(&mut self) -> R<RawIdentity<'b>> {
        let mut u = RawIdentity::default();
        let mut seen = Seen::default();
        self.object(|p, key| {
            match key {
                b"type" => {
                    seen.once(0)?;
                    u.kind = p.opt_str()?;
                }
                b"arn" => {
                    seen.once(1)?;
                    u.arn = p.opt_str()?;
                }
                b"principalId" => {
                    seen.once(2)?;
                    u.principal_id = p.opt_str()?;
                }
                b"accountId" => {
                    seen.once(3)?;
                    u.account_id = p.opt_str()?;
                }
                b"userName" => {
                    seen.once(4)?;
                    u.user_name = p.opt_str()?;
                }
                b"invokedBy" => {
                    seen.once(5)?;
                    u.invoked_by = p.opt_str()?;
                }
                b"sessionContext" => {
                    seen.once(6)?;
                    u.session_context = p.opt_object(Self::session)?;
                }
                b"accessKeyId" => {
                    seen.once(7)?;
                    u.access_key_id = p.lenient_str()?;
                }
                b"onBehalfOf" => {
                    seen.once(8)?;
                    u.on_behalf_of = p.opt_object(Self::on_behalf_of)?;
                }
                b"identityProvider" => {
                    seen.once(9)?;
                    u.identity_provider = p.lenient_str()?;
                }
                _ => p.skip()?,
            }
            Ok(())
        })?;
        Ok(u)
    }

    fn on_behalf_of(&mut self) -> R<RawOnBehalfOf<'b>> {
        let mut o = RawOnBehalfOf::default();
        let mut seen = Seen::default();
        self.object(|p, key| {
            match key {
                b"userId" => {
                    seen.once(0)?;
                    o.user_id = p.lenient_str()?;
                }
                b"identityStoreArn" => {
                    seen.once(1)?;
                    o.identity_store_arn = p.lenient_str()?;
                }
                b"subject" => {
                    seen.once(2)?;
                    o.subject = p.lenient_str()?;
                }
                b"subjectType" => {
                    seen.once(3)?;
                    o.subject_type = p.lenient_str()?;
                }
                b"issuer" => {
                    seen.once(4)?;
                    o.issuer = p.lenient_str()?;
                }
                _ => p.skip()?,
            }
            Ok(())
        })?;
        Ok(o)
    }

    fn session(&mut self) -> R<RawSession<'b>> {
        let mut s = RawSession::default();
        let mut seen = Seen::default();
        self.object(|p, key| {
            match key {
                b"sessionIssuer" => {
                    seen.once(0)?;
                    s.session_issuer = p.opt_object(Self::issuer)?;
                }
                b"sourceIdentity" => {
                    seen.once(1)?;
                    s.source_identity = p.opt_str()?;
                }
                _ => p.skip()?,
            }
            Ok(())
        })?;
        Ok(s)
    }

    fn issuer(&mut self) -> R<RawIssuer<'b>> {
        let mut s = RawIssuer::default();
        let mut seen = Seen::default();
        self.object(|p, key| {
            match key {
                b"type" => {
                    seen.once(0)?;
                    s.kind = p.opt_str()?;
                }
                b"arn" => {
                    seen.once(1)?;
                    s.arn = p.opt_str()?;
                }
                b"userName" => {
                    seen.once(2)?;
                    s.user_name = p.opt_str()?;
                }
                _ => p.skip()?,
            }
            Ok(())
        })?;
        Ok(s)
    }

    fn resource(&mut self) -> R<RawResource<'b>> {
        let mut r = RawResource::default();
        let mut seen = Seen::default();
        self.object(|p, key| {
            match key {
                // `arn` is serde's alias of `ARN`: the same field.
                b"ARN" | b"arn" => {
                    seen.once(0)?;
                    r.arn = p.opt_str()?;
                }
                b"type" => {
                    seen.once(1)?;
                    r.kind = p.opt_str()?;
                }
                _ => p.skip()?,
            }
            Ok(())
        })?;
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::super::read_both_ways;

    fn agree(bytes: &[u8]) {
        let [fast, serde] = read_both_ways(bytes);
        assert_eq!(fast, serde, "{}", String::from_utf8_lossy(bytes));
    }

    /// Whether the fast path reads the whole file on its own.
    fn fast(text: &str) -> bool {
        super::records(text, &mut |_, _| {}).is_ok()
    }

    const FULL: &str = r#"{"Records": [{"eventVersion": "1.09", "userIdentity": {"type": "AssumedRole", "principalId": "AROA1:s", "arn": "arn:aws:sts::1:assumed-role/r/s", "accountId": "1", "accessKeyId": "ASIA", "invokedBy": "x.amazonaws.com", "userName": null, "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": "AROA1", "arn": "arn:aws:iam::1:role/r", "accountId": "1", "userName": "r"}, "webIdFederationData": {}, "attributes": {"creationDate": "2026-10-23T04:48:00Z", "mfaAuthenticated": "false"}, "sourceIdentity": "alice"}}, "eventTime": "2026-10-23T04:48:00Z", "eventSource": "s3.amazonaws.com", "eventName": "GetObject", "awsRegion": "us-east-1", "sourceIPAddress": "192.0.2.10", "userAgent": "aws-sdk-go/1.44 (\"q\")", "errorCode": "AccessDenied", "errorMessage": "Access Denied \u00e9\ud83d\ude00", "requestParameters": {"bucketName": "b", "key": "k/0", "n": [1, -2, 3.5, -0.0e+10, 1E3, 0.25e-1, true, false, null, {}, [], [[]], {"a": {"b": [{}]}}]}, "responseElements": null, "additionalEventData": {"bytesTransferredIn": 0, "x": "\/\b\f\n\r\t\\"}, "requestID": "R", "eventID": "E", "readOnly": true, "resources": [{"accountId": "1", "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::b"}, {"type": "AWS::S3::Object", "arn": "arn:aws:s3:::b/k/0"}, {}], "eventType": "AwsApiCall", "managementEvent": false, "recipientAccountId": "1", "eventCategory": "Data", "tlsDetails": {"tlsVersion": "TLSv1.2"}}, {"eventName": "A\u0042", "requestParameters": "text", "resources": null, "userIdentity": null, "managementEvent": null, "errorMessage": 5, "userAgent": {"a": [1, "b"]}, "sharedEventID": "S", "vpcEndpointId": "vpce-1", "sessionCredentialFromConsole": "true", "responseElements": {"credentials": {"accessKeyId": "ASIB"}}}, {"eventName": "Ünïcødé", "requestParameters": [1,2], "userIdentity": {"sessionContext": null, "onBehalfOf": {"userId": "u-\u0031", "identityStoreArn": "arn:aws:identitystore::1:identitystore/d-1", "extra": [1], "subject": "spiffe://example.org/agent", "subjectType": "workload", "issuer": 7}, "identityProvider": "accounts.google.com", "accessKeyId": null}, "errorMessage": null, "sourceIPAddress": true}, {}]}"#;

    #[test]
    fn the_fast_path_reads_every_shape_of_a_record_as_serde_does() {
        assert!(fast(FULL));
        agree(FULL.as_bytes());
        let compact: String =
            serde_json::to_string(&serde_json::from_str::<serde_json::Value>(FULL).unwrap())
                .unwrap();
        assert!(fast(&compact));
        agree(compact.as_bytes());
        let pretty =
            serde_json::to_string_pretty(&serde_json::from_str::<serde_json::Value>(FULL).unwrap())
                .unwrap();
        assert!(fast(&pretty));
        agree(pretty.as_bytes());
        for text in [
            "[]",
            "{\"Records\": []}",
            " \r\n\t[{}]\n",
            r#"{"a": 1, "Records": [{}], "Records": 5, "z": [{"q": "\u0000"}]}"#,
        ] {
            assert!(fast(text), "{text}");
            agree(text.as_bytes());
        }
    }

    /// The fields read for refusals, people behind sessions, role chains
    /// and network activity: strings where they are strings, absent where
    /// a record carries another type, raw JSON text for nested values.
    #[test]
    fn newer_fields_are_read_leniently() {
        let mut got = Vec::new();
        super::records(FULL, &mut |_, r| {
            let u = r.user_identity.as_ref();
            got.push((
                r.error_message.map(|c| c.into_owned()),
                r.user_agent.map(|c| c.into_owned()),
                r.shared_event_id.map(|c| c.into_owned()),
                r.response_elements.map(str::to_owned),
                u.and_then(|u| u.access_key_id.as_deref().map(str::to_owned)),
                u.and_then(|u| u.on_behalf_of.as_ref())
                    .and_then(|o| o.user_id.as_deref().map(str::to_owned)),
            ));
        })
        .unwrap();
        assert_eq!(got[0].0.as_deref(), Some("Access Denied é😀"));
        assert_eq!(got[0].1.as_deref(), Some("aws-sdk-go/1.44 (\"q\")"));
        assert_eq!(got[0].4.as_deref(), Some("ASIA"));
        assert_eq!(got[0].3, None, "responseElements: null");
        assert_eq!(got[1].0, None, "a number reads as absent");
        assert_eq!(got[1].1, None, "an object reads as absent");
        assert_eq!(got[1].2.as_deref(), Some("S"));
        assert_eq!(
            got[1].3.as_deref(),
            Some(r#"{"credentials": {"accessKeyId": "ASIB"}}"#)
        );
        assert_eq!(got[2].5.as_deref(), Some("u-1"));
        assert_eq!(got[2].4, None);
    }

    /// Inputs the fast path leaves to serde: serde reads them (or names
    /// what is wrong) exactly as it would alone.
    #[test]
    fn what_the_fast_path_stops_on_is_read_by_serde() {
        for text in [
            // An escaped key, a duplicate field (serde's error), an alias
            // given twice, a field of another type, a record as an array.
            r#"{"Records": [{"eventName": "A"}, {"event\u004eame": "B"}]}"#,
            r#"{"Records": [{"eventName": "A"}, {"eventName": "B", "eventName": "C"}]}"#,
            r#"{"Records": [{"resources": [{"ARN": "a", "arn": "b"}]}]}"#,
            r#"{"Records": [{"eventName": "A"}, {"eventName": 5}, {"eventName": "C"}]}"#,
            r#"{"Records": [{"eventName": "A"}, ["x"], {"eventName": "C"}]}"#,
            r#"{"Records": [{"managementEvent": "yes"}]}"#,
            r#"{"Records": [{"userIdentity": "root"}]}"#,
            r#"{"Records": [{"userIdentity": {"onBehalfOf": "alice"}}]}"#,
            r#"{"Records": [{"errorMessage": "a", "errorMessage": 1}]}"#,
            // Not JSON: trailing commas, a leading zero, a bare minus, a
            // control character, a bad escape, a lone surrogate in a field
            // read (serde refuses) and in one skipped (serde accepts).
            r#"{"Records": [{"eventName": "A"},]}"#,
            r#"{"Records": [{"x": [1,]}]}"#,
            r#"{"Records": [{"x": 01}]}"#,
            r#"{"Records": [{"x": -}]}"#,
            "{\"Records\": [{\"eventName\": \"a\u{1}b\"}]}",
            r#"{"Records": [{"eventName": "\x"}]}"#,
            r#"{"Records": [{"eventName": "\ud800"}]}"#,
            r#"{"Records": [{"x": "\ud800"}]}"#,
            // Deep nesting in a skipped value, trailing text, no records.
            &format!(
                r#"{{"Records": [{{"x": {}{}}}]}}"#,
                "[".repeat(100),
                "]".repeat(100)
            ),
            r#"{"Records": [{}]} x"#,
            r#"{"eventName": "A"}"#,
            "{\"eventName\": \"A\"}\n{\"eventName\": \"B\"}\n",
            r#"{"Records": [{"eventName": "A"}, {"eventNa"#,
        ] {
            agree(text.as_bytes());
        }
    }

    /// Random edits of valid files: wherever the fast path accepts one, it
    /// hands over what serde does; wherever it stops, serde takes over.
    #[test]
    fn the_fast_path_agrees_with_serde_on_mutated_files() {
        const BYTES: &[u8] = b"\"\\{}[],: 0-e.nu\x01\t1E+";
        let seeds = [
            FULL.to_string(),
            r#"[{"eventName":"A","eventSource":"s3.amazonaws.com","requestParameters":{"k":[1.5e3,{"z":null}]},"resources":[{"ARN":"arn:aws:s3:::b"}]}]"#.to_string(),
        ];
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let (mut accepted, mut total) = (0, 0);
        for seed in &seeds {
            for _ in 0..4000 {
                let mut b = seed.as_bytes().to_vec();
                for _ in 0..=next() % 2 {
                    let at = (next() % b.len() as u64) as usize;
                    let with = BYTES[(next() % BYTES.len() as u64) as usize];
                    match next() % 3 {
                        0 => {
                            b.remove(at);
                        }
                        1 => b.insert(at, with),
                        _ => b[at] = with,
                    }
                }
                total += 1;
                if std::str::from_utf8(&b).is_ok_and(fast) {
                    accepted += 1;
                }
                agree(&b);
            }
        }
        // The edits must leave many files valid, or this checks little.
        assert!(accepted > total / 5, "{accepted} of {total}");
    }
}
