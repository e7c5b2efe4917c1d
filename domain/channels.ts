/**
 * The channels a page can go out on. `CHANNELS` is the one list: the config schema (a contact
 * method's `kind`, the `channels` section), `ChannelKind` and the notifier registry
 * (activities/notifiers/registry.ts, a `Record<ChannelKind, …>`) all derive from it, so adding a
 * channel is this list and its settings schema below, its notifier file, its test and one registry line.
 *
 * Pure: no I/O, safe to import from workflow code.
 */
import { Type, type Static, type TSchema } from 'typebox';

export const CHANNELS = [
  'email',
  'ntfy',
  'sms',
  'slack',
  'teams',
  'mattermost',
  'googlechat',
  'webhook',
] as const;
export type ChannelKind = (typeof CHANNELS)[number];

/** The TypeBox union of channel names, for the config schema. */
export const ChannelKindSchema = Type.Union(CHANNELS.map((c) => Type.Literal(c)));

/** An environment variable name: secrets are given by name, never by value, in the file. */
export const EnvName = Type.String({
  pattern: '^[A-Z_][A-Z0-9_]*$',
  description: 'environment variable name',
});
const HttpUrl = Type.String({ pattern: '^https?://' });

/**
 * Each channel's settings in the config's `channels` section (all optional: a channel without
 * settings is not configured, and a contact method of that kind is a config error). `*Env` fields
 * name environment variables that must be set when the worker starts.
 */
export const channelSettings = {
  /** Uses the worker's SMTP settings (SMTP_URL, MAIL_FROM). */
  email: Type.Object({}, { additionalProperties: false }),
  ntfy: Type.Object(
    {
      /** The ntfy server (self-hosted or https://ntfy.sh). */
      url: Type.String({ pattern: '^https?://', default: 'https://ntfy.sh' }),
      /** Access token (`tk_…`) of a user allowed to publish to the topics. */
      tokenEnv: Type.Optional(EnvName),
    },
    { additionalProperties: false },
  ),
  /**
   * One generic HTTP request per message, for any SMS gateway (SMSEagle, an Android SMS gateway app,
   * Twilio's form API). `url`, `headers` and `body` are templates over `{{to}}`, `{{message}}`,
   * `{{secret}}` (`{{secret|base64}}` for Basic auth) and `{{receiptUrl}}` (where the gateway reports
   * delivery: Twilio's `StatusCallback`, a gateway's delivery webhook); substituted values are encoded for where they
   * stand: URL-encoded in `url` and in a `form` body, as JSON strings in a `json` body.
   */
  sms: Type.Object(
    {
      method: Type.Union([Type.Literal('POST'), Type.Literal('GET')], { default: 'POST' }),
      url: HttpUrl,
      headers: Type.Record(Type.String(), Type.String(), { default: {} }),
      body: Type.Optional(Type.String()),
      contentType: Type.Union([Type.Literal('form'), Type.Literal('json'), Type.Literal('text')], {
        default: 'json',
      }),
      secretEnv: Type.Optional(EnvName),
    },
    { additionalProperties: false },
  ),
  /** An incoming webhook; pages mention the contact's `slackUserId` and carry Acknowledge/Resolve buttons. */
  slack: Type.Object(
    {
      urlEnv: EnvName,
      /** The app's signing secret: interactive button clicks are checked with it (signature v0). */
      signingSecretEnv: Type.Optional(EnvName),
    },
    { additionalProperties: false },
  ),
  /** A Teams incoming webhook (Workflows or connector). */
  teams: Type.Object({ urlEnv: EnvName }, { additionalProperties: false }),
  /** A Google Chat space's incoming webhook; a method's `to` is the contact's Chat user (`users/<id>`). */
  googlechat: Type.Object({ urlEnv: EnvName }, { additionalProperties: false }),
  /** A Mattermost incoming webhook; buttons post back to the API with the action token. */
  mattermost: Type.Object(
    { urlEnv: EnvName, actionTokenEnv: Type.Optional(EnvName) },
    { additionalProperties: false },
  ),
  /** A generic JSON webhook, signed per Standard Webhooks with the `whsec_…` secret. */
  webhook: Type.Object(
    { url: Type.Optional(HttpUrl), urlEnv: Type.Optional(EnvName), secretEnv: EnvName },
    { additionalProperties: false },
  ),
} satisfies Record<ChannelKind, TSchema>;

export type ChannelSettings = { [K in ChannelKind]: Static<(typeof channelSettings)[K]> };

/** The config's `channels` section. */
export const ChannelsConfig = Type.Object(
  Object.fromEntries(CHANNELS.map((c) => [c, Type.Optional(channelSettings[c])])) as {
    [K in ChannelKind]: ReturnType<typeof Type.Optional<(typeof channelSettings)[K]>>;
  },
  { additionalProperties: false, default: {} },
);
export type ChannelsConfig = Partial<ChannelSettings>;

/** The environment variables a configured channel needs, with their config paths. */
export function channelSecretNames(channels: ChannelsConfig): { path: string; name: string }[] {
  const out: { path: string; name: string }[] = [];
  for (const kind of CHANNELS) {
    const s = channels[kind] as Record<string, unknown> | undefined;
    if (!s) continue;
    for (const [field, value] of Object.entries(s))
      if (field.endsWith('Env') && typeof value === 'string')
        out.push({ path: `channels.${kind}.${field}`, name: value });
  }
  return out;
}

/** ntfy priorities (1–5); 5 ("max/urgent") rings through Do Not Disturb in the ntfy app. */
export function ntfyPriority(severity: string): 1 | 2 | 3 | 4 | 5 {
  switch (severity) {
    case 'P0':
    case 'P1':
      return 5;
    case 'P2':
      return 4;
    default:
      return 3;
  }
}

/**
 * The GSM 03.38 basic character set and its extension table (each extension character takes two
 * septets). A text of only these fits 160 septets per single SMS, 153 per part of a long one; any
 * other character makes the whole message UCS-2 (70, or 67 per part).
 */
const gsmBasic =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const gsmExtension = '^{}\\[~]|€\f';

export interface SmsEncoding {
  encoding: 'GSM-7' | 'UCS-2';
  /** Septets (GSM-7) or UTF-16 code units (UCS-2). */
  units: number;
  segments: number;
}

export function smsEncoding(text: string): SmsEncoding {
  let septets = 0;
  for (const ch of text) {
    if (gsmBasic.includes(ch)) septets += 1;
    else if (gsmExtension.includes(ch)) septets += 2;
    else {
      const units = text.length;
      return { encoding: 'UCS-2', units, segments: units <= 70 ? 1 : Math.ceil(units / 67) };
    }
  }
  return { encoding: 'GSM-7', units: septets, segments: septets <= 160 ? 1 : Math.ceil(septets / 153) };
}

/** Replaces characters outside GSM-7 with close GSM-7 ones, so a page stays one plain SMS. */
export function toGsm7(text: string): string {
  const map: Record<string, string> = {
    '→': '->',
    '–': '-',
    '—': '-',
    '‘': "'",
    '’': "'",
    '“': '"',
    '”': '"',
    '…': '...',
    '·': '-',
  };
  let out = '';
  for (const ch of text.normalize('NFC')) {
    if (gsmBasic.includes(ch) || gsmExtension.includes(ch)) out += ch;
    else if (map[ch] !== undefined) out += map[ch];
    else {
      const plain = ch.normalize('NFKD').replace(/[\u0300-\u036f]/g, '');
      out += [...plain].every((c) => gsmBasic.includes(c)) && plain ? plain : '?';
    }
  }
  return out;
}

/**
 * The SMS text of a page: the title cut so that title and link fit one GSM-7 segment when they can;
 * a link too long for that makes more segments, and `smsEncoding` says how many.
 */
export function smsText(title: string, link: string | undefined): string {
  const tail = link ? ` Ack: ${toGsm7(link)}` : '';
  const head = toGsm7(title);
  const room = 160 - smsEncoding(tail).units;
  if (room < 20) return `${head.slice(0, 60)}${tail}`;
  let cut = head;
  while (smsEncoding(cut).units > room) cut = cut.slice(0, -1);
  if (cut.length < head.length) cut = `${cut.slice(0, -3)}...`;
  return `${cut}${tail}`;
}

export type TemplateContext = 'url' | 'form' | 'json' | 'text' | 'header';

/**
 * Fills `{{name}}` and `{{name|base64}}` in a gateway template, each value encoded for its context.
 * An unknown name is an error (a template typo must not send `{{mesage}}` to a phone).
 */
export function renderTemplate(
  template: string,
  values: Record<string, string>,
  ctx: TemplateContext,
): string {
  return template.replace(
    /\{\{\s*([a-zA-Z]+)(?:\s*\|\s*(base64))?\s*\}\}/g,
    (_m, name: string, filter?: string) => {
      const raw = values[name];
      if (raw === undefined)
        throw new Error(`unknown template field {{${name}}} (one of ${Object.keys(values).join(', ')})`);
      const v = filter === 'base64' ? Buffer.from(raw, 'utf8').toString('base64') : raw;
      switch (ctx) {
        case 'url':
          return encodeURIComponent(v);
        case 'form':
          return new URLSearchParams({ v }).toString().slice(2);
        case 'json':
          return JSON.stringify(v);
        default:
          return v;
      }
    },
  );
}
