/**
 * The pages' words in English and Norwegian (bokmål) — the public pages and the console's incident
 * page — and the choice between them: `?lang=` wins, then `Accept-Language` by preference; anything
 * unknown falls back to English.
 */
import type { StatusLanguage } from '../../domain/templates.js';
import type { IncidentState, StatusState } from '../../domain/incident.js';

export type Lang = StatusLanguage;
export const languages: readonly Lang[] = ['en', 'nb'];

/** Norwegian in any written form (`nb`, `nn`, `no`) is served in bokmål. */
function fromTag(tag: string): Lang | undefined {
  const primary = tag.trim().toLowerCase().split('-')[0];
  if (primary === 'nb' || primary === 'no' || primary === 'nn') return 'nb';
  if (primary === 'en') return 'en';
  return undefined;
}

export function pickLanguage(query: unknown, acceptLanguage: string | undefined): Lang {
  if (typeof query === 'string' && query !== '') return fromTag(query) ?? 'en';
  const ranked = (acceptLanguage ?? '')
    .split(',')
    .slice(0, 20)
    .map((entry, i) => {
      const [tag = '', ...params] = entry.split(';');
      const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
      return { lang: fromTag(tag), q: q === undefined ? 1 : Number(q), i };
    })
    .filter((x) => x.lang !== undefined && x.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i);
  return ranked[0]?.lang ?? 'en';
}

export type ComponentStatus = 'operational' | 'degraded' | 'major_outage';

export interface StatusPageStrings {
  title: string;
  heading: string;
  allOperational: string;
  someProblems: string;
  components: string;
  componentStatus: Record<ComponentStatus, string>;
  openIncidents: string;
  noOpenIncidents: string;
  maintenance: string;
  maintenanceInProgress: string;
  maintenanceScheduled: string;
  maintenanceUntil: string;
  history: string;
  noHistory: string;
  stateLabel: Record<StatusState, string>;
  localTime: string;
  opened: string;
  resolved: string;
  duration: string;
  feed: string;
  json: string;
  language: string;
  generated: string;
  feedTitle: string;
  feedSubtitle: string;
  historyDays: (days: number) => string;
  showMessages: (n: number) => string;
  staleNotice: string;
  report: ReportFormStrings;
}

/** The status page's "report a problem" form and its answers. */
export interface ReportFormStrings {
  heading: string;
  intro: string;
  /** Field names, as labelled on the form and named in its error messages. */
  fields: { component: string; description: string; contact: string };
  optional: string;
  choose: string;
  descriptionHint: string;
  contactHint: string;
  /** The honeypot's label; people never see it. */
  website: string;
  submit: string;
  thanks: string;
  invalidHeading: string;
  missing: (field: string) => string;
  tooLong: (field: string, max: number) => string;
  unknownComponent: (field: string) => string;
  rateLimitedHeading: string;
  rateLimited: (seconds: number) => string;
  unavailableHeading: string;
  unavailable: string;
  back: string;
}

export const statusPageStrings: Record<Lang, StatusPageStrings> = {
  en: {
    title: 'Service status',
    heading: 'Service status',
    allOperational: 'All services are operating normally.',
    someProblems: 'Some services have problems right now.',
    components: 'Services',
    componentStatus: { operational: 'Operational', degraded: 'Degraded', major_outage: 'Outage' },
    openIncidents: 'Current incidents',
    noOpenIncidents: 'There are no current incidents.',
    maintenance: 'Scheduled maintenance',
    maintenanceInProgress: 'In progress',
    maintenanceScheduled: 'Scheduled',
    maintenanceUntil: 'until',
    history: 'History',
    noHistory: 'No incidents in this period.',
    stateLabel: {
      investigating: 'Investigating',
      identified: 'Identified',
      monitoring: 'Monitoring',
      resolved: 'Resolved',
    },
    localTime: 'Norwegian time',
    opened: 'Started',
    resolved: 'Resolved',
    duration: 'Duration',
    feed: 'Subscribe (Atom feed)',
    json: 'JSON',
    language: 'Language',
    generated: 'Page generated',
    feedTitle: 'Service status',
    feedSubtitle: 'Status messages about incidents',
    historyDays: (days) => `The last ${days} days`,
    showMessages: (n) => `Status messages (${n})`,
    staleNotice: 'The status could not be refreshed just now; this is the status as of',
    report: {
      heading: 'Report a problem',
      intro:
        'Something not working? Tell us: your report starts an immediate check of the service, and staff are alerted if the check confirms the problem.',
      fields: { component: 'Service', description: 'Description', contact: 'Contact' },
      optional: 'optional',
      choose: 'Choose a service',
      descriptionHint:
        'What is wrong: what you tried, what happened, and since when (at most 2000 characters).',
      contactHint: 'An e-mail address or phone number, in case we need to ask you more.',
      website: 'Leave this field empty',
      submit: 'Send report',
      thanks:
        'Thank you for your report. We are checking the service right now; if the problem is confirmed, it will show on this page.',
      invalidHeading: 'Your report was not sent',
      missing: (field) => `${field}: this field is required.`,
      tooLong: (field, max) => `${field}: at most ${max} characters, please shorten it.`,
      unknownComponent: (field) => `${field}: choose one of the services in the list.`,
      rateLimitedHeading: 'Too many reports',
      rateLimited: (seconds) =>
        `Too many reports from your address just now. Try again in ${seconds} seconds; your text is kept below.`,
      unavailableHeading: 'Your report was not sent',
      unavailable:
        'We cannot take reports right this moment. Try again in a minute; your text is kept below.',
      back: 'Back to the status page',
    },
  },
  nb: {
    title: 'Driftsstatus',
    heading: 'Driftsstatus',
    allOperational: 'Alle tjenester fungerer som normalt.',
    someProblems: 'Noen tjenester har problemer akkurat nå.',
    components: 'Tjenester',
    componentStatus: { operational: 'I drift', degraded: 'Redusert', major_outage: 'Driftsavbrudd' },
    openIncidents: 'Pågående hendelser',
    noOpenIncidents: 'Det er ingen pågående hendelser.',
    maintenance: 'Planlagt vedlikehold',
    maintenanceInProgress: 'Pågår',
    maintenanceScheduled: 'Planlagt',
    maintenanceUntil: 'til',
    history: 'Historikk',
    noHistory: 'Ingen hendelser i denne perioden.',
    stateLabel: {
      investigating: 'Undersøker',
      identified: 'Årsak funnet',
      monitoring: 'Overvåker',
      resolved: 'Løst',
    },
    localTime: 'norsk tid',
    opened: 'Startet',
    resolved: 'Løst',
    duration: 'Varighet',
    feed: 'Abonner (Atom-feed)',
    json: 'JSON',
    language: 'Språk',
    generated: 'Siden laget',
    feedTitle: 'Driftsstatus',
    feedSubtitle: 'Driftsmeldinger om hendelser',
    historyDays: (days) => `De siste ${days} dagene`,
    showMessages: (n) => `Driftsmeldinger (${n})`,
    staleNotice: 'Statusen kunne ikke oppdateres akkurat nå; dette er statusen per',
    report: {
      heading: 'Meld fra om et problem',
      intro:
        'Virker noe ikke? Si fra: meldingen din starter en sjekk av tjenesten med en gang, og driften varsles hvis sjekken bekrefter problemet.',
      fields: { component: 'Tjeneste', description: 'Beskrivelse', contact: 'Kontakt' },
      optional: 'valgfritt',
      choose: 'Velg en tjeneste',
      descriptionHint: 'Hva er galt: hva du prøvde, hva som skjedde, og siden når (høyst 2000 tegn).',
      contactHint: 'En e-postadresse eller et telefonnummer, i tilfelle vi trenger å spørre deg om mer.',
      website: 'La dette feltet stå tomt',
      submit: 'Send melding',
      thanks:
        'Takk for meldingen. Vi sjekker tjenesten nå; hvis problemet bekreftes, vises det på denne siden.',
      invalidHeading: 'Meldingen ble ikke sendt',
      missing: (field) => `${field}: dette feltet må fylles ut.`,
      tooLong: (field, max) => `${field}: høyst ${max} tegn, vennligst forkort teksten.`,
      unknownComponent: (field) => `${field}: velg en av tjenestene i listen.`,
      rateLimitedHeading: 'For mange meldinger',
      rateLimited: (seconds) =>
        `For mange meldinger fra adressen din akkurat nå. Prøv igjen om ${seconds} sekunder; teksten din er tatt vare på nedenfor.`,
      unavailableHeading: 'Meldingen ble ikke sendt',
      unavailable:
        'Vi kan ikke ta imot meldinger akkurat nå. Prøv igjen om et minutt; teksten din er tatt vare på nedenfor.',
      back: 'Tilbake til driftsstatus',
    },
  },
};

export interface AckPageStrings {
  title: string;
  confirmHeading: string;
  confirmText: (who: string, service: string) => string;
  button: string;
  doneHeading: string;
  doneText: string;
  alreadyHeading: string;
  alreadyByYou: (at: string) => string;
  alreadyBy: (who: string, at: string) => string;
  resolvingText: string;
  closedHeading: string;
  closedText: (state: string) => string;
  expiredHeading: string;
  expiredText: string;
  invalidHeading: string;
  forgedText: string;
  malformedText: string;
  notConfiguredText: string;
  notFoundText: string;
  incident: string;
  state: string;
  since: string;
  console: string;
}

export const ackPageStrings: Record<Lang, AckPageStrings> = {
  en: {
    title: 'Acknowledge incident',
    confirmHeading: 'Acknowledge this incident?',
    confirmText: (who, service) =>
      `You are acknowledging as ${who}. This stops the escalation for ${service}: nobody else is paged while you work on it.`,
    button: 'Acknowledge',
    doneHeading: 'Acknowledged',
    doneText: 'Escalation has stopped. Resolve the incident when the service works again.',
    alreadyHeading: 'Already acknowledged',
    alreadyByYou: (at) =>
      `You acknowledged this incident at ${at}. This link has been used; nothing was changed.`,
    alreadyBy: (who, at) => `${who} acknowledged this incident at ${at}. Nothing was changed.`,
    resolvingText:
      'Someone has asked to resolve this incident; its recovery is being checked. Nothing was changed.',
    closedHeading: 'Incident closed',
    closedText: (state) => `This incident is already ${state}. Nothing was changed.`,
    expiredHeading: 'Link expired',
    expiredText:
      'This acknowledge link has expired. Nothing was changed. Acknowledge in the staff console or with the API.',
    invalidHeading: 'Invalid link',
    forgedText:
      'This acknowledge link is not valid (its signature does not match). Nothing was changed. Use the link from the page mail as it was sent, or the staff console.',
    malformedText:
      'This is not an acknowledge link (it may have been cut off). Nothing was changed. Use the whole link from the page mail, or the staff console.',
    notConfiguredText:
      'One-click acknowledge is not configured on this server (ACK_LINK_SECRET). Nothing was changed. Use the staff console or the API.',
    notFoundText: 'This incident does not exist (any more). Nothing was changed.',
    incident: 'Incident',
    state: 'State',
    since: 'Since',
    console: 'Open the staff console',
  },
  nb: {
    title: 'Kvitter for hendelse',
    confirmHeading: 'Kvittere for denne hendelsen?',
    confirmText: (who, service) =>
      `Du kvitterer som ${who}. Det stopper eskaleringen for ${service}: ingen andre varsles mens du jobber med saken.`,
    button: 'Kvitter',
    doneHeading: 'Kvittert',
    doneText: 'Eskaleringen er stoppet. Løs hendelsen når tjenesten virker igjen.',
    alreadyHeading: 'Allerede kvittert',
    alreadyByYou: (at) => `Du kvitterte for denne hendelsen ${at}. Lenken er brukt; ingenting ble endret.`,
    alreadyBy: (who, at) => `${who} kvitterte for denne hendelsen ${at}. Ingenting ble endret.`,
    resolvingText: 'Noen har bedt om å løse hendelsen; gjenopprettingen sjekkes nå. Ingenting ble endret.',
    closedHeading: 'Hendelsen er lukket',
    closedText: (state) => `Denne hendelsen er allerede ${state}. Ingenting ble endret.`,
    expiredHeading: 'Lenken er utløpt',
    expiredText:
      'Denne kvitteringslenken er utløpt. Ingenting ble endret. Kvitter i driftskonsollet eller med API-et.',
    invalidHeading: 'Ugyldig lenke',
    forgedText:
      'Denne kvitteringslenken er ikke gyldig (signaturen stemmer ikke). Ingenting ble endret. Bruk lenken slik den kom i varselet, eller driftskonsollet.',
    malformedText:
      'Dette er ikke en kvitteringslenke (den kan være kuttet av). Ingenting ble endret. Bruk hele lenken fra varselet, eller driftskonsollet.',
    notConfiguredText:
      'Kvittering med ett klikk er ikke satt opp på denne serveren (ACK_LINK_SECRET). Ingenting ble endret. Bruk driftskonsollet eller API-et.',
    notFoundText: 'Denne hendelsen finnes ikke (lenger). Ingenting ble endret.',
    incident: 'Hendelse',
    state: 'Tilstand',
    since: 'Siden',
    console: 'Åpne driftskonsollet',
  },
};

/**
 * The console's incident page: its facts, the action forms and their answers, the paged table and
 * the headings. The timeline's entries, the reasons and the service's error messages are records
 * and stay as they were written.
 */
export interface ConsoleIncidentStrings {
  back: string;
  otherLanguage: string;
  facts: {
    incident: string;
    opened: string;
    verified: string;
    acknowledged: string;
    notYet: string;
    snoozed: string;
    nextEscalation: string;
    closed: string;
    recovery: string;
  };
  /** `<who> at <time>` for the acknowledgement. */
  ackedBy: (who: string) => string;
  until: string;
  /** The countdown to the next escalation: `in 2 min 5 s`. */
  inTime: (d: string) => string;
  nobodyFurther: string;
  noneScheduled: string;
  closedBanner: (state: string) => string;
  postmortem: string;
  actions: string;
  needsRole: (role: string, have: string) => string;
  noRoles: string;
  reopen: { label: string; placeholder: string; button: string };
  acknowledge: { intro: string; again: string; button: string };
  note: { label: string; button: string };
  status: { label: string; text: string; button: string };
  resolve: { label: string; placeholder: string; button: string };
  severity: { label: (now: string) => string; why: string; button: string };
  responder: { label: string; why: string; button: string; everyonePaged: string };
  snooze: { label: string; button: string };
  forceResolve: { label: string; placeholder: string; button: string };
  merge: { label: string; why: string; button: string; none: string; mergedInto: string };
  /** The banner after an action (the `done=` of its redirect). */
  done: Record<ConsoleIncidentDone, string>;
  paged: string;
  nobodyPaged: string;
  cols: {
    when: string;
    who: string;
    level: string;
    why: string;
    whenUtc: string;
    what: string;
    detail: string;
  };
  addedAsResponder: string;
  finalFallback: string;
  level: (n: number) => string;
  repeat: (n: number) => string;
  statusMessages: string;
  nonePublished: string;
  by: string;
  timeline: string;
}

export const consoleIncidentDone = [
  'acknowledged',
  'noted',
  'published',
  'resolving',
  'force-resolved',
  'severity-changed',
  'responder-added',
  'snoozed',
  'reopened',
  'merged',
] as const;
export type ConsoleIncidentDone = (typeof consoleIncidentDone)[number];

export const consoleIncidentStrings: Record<Lang, ConsoleIncidentStrings> = {
  en: {
    back: '← Open incidents',
    otherLanguage: 'Norsk',
    facts: {
      incident: 'Incident',
      opened: 'Opened',
      verified: 'Verified',
      acknowledged: 'Acknowledged',
      notYet: 'not yet',
      snoozed: 'Snoozed',
      nextEscalation: 'Next escalation',
      closed: 'Closed',
      recovery: 'Recovery',
    },
    ackedBy: (who) => `${who} at`,
    until: 'until',
    inTime: (d) => `in ${d}`,
    nobodyFurther: 'nobody further: the last level has been paged',
    noneScheduled: 'none scheduled',
    closedBanner: (state) => `This incident is ${state}; nothing more can be done here.`,
    postmortem: 'The postmortem',
    actions: 'Actions',
    needsRole: (role, have) => `Needs the ${role} role; you have ${have}.`,
    noRoles: 'none (read only)',
    reopen: {
      label: 'The problem is back? Reopen it as a new incident that pages now',
      placeholder: 'what is back',
      button: 'Reopen',
    },
    acknowledge: {
      intro: 'Stop the escalation: you are on it.',
      again: 'Acknowledged. Acknowledge again to restart the acknowledgement timeout.',
      button: 'Acknowledge',
    },
    note: { label: 'Note for the timeline', button: 'Add note' },
    status: {
      label: 'Public status message',
      text: 'Text (empty: the standard text for the state)',
      button: 'Publish',
    },
    resolve: {
      label: 'Resolve (the probes must then pass)',
      placeholder: 'what fixed it (optional)',
      button: 'Resolve',
    },
    severity: { label: (now) => `Severity (now ${now})`, why: 'Why (optional)', button: 'Change severity' },
    responder: {
      label: 'Add responder (paged now)',
      why: 'Why them (optional)',
      button: 'Add responder',
      everyonePaged: 'Every contact has been paged for this incident.',
    },
    snooze: {
      label: 'Snooze until (a UTC time, or a duration like 30m; at most 24 h)',
      button: 'Snooze',
    },
    forceResolve: {
      label: 'Force-resolve now, without probe proof (why?)',
      placeholder: 'e.g. the probe target no longer exists',
      button: 'Force-resolve',
    },
    merge: {
      label: 'Merge this incident into (the same outage)',
      why: 'Why (optional)',
      button: 'Merge',
      none: 'No other open incident to merge this one into.',
      mergedInto: 'Merged into',
    },
    done: {
      acknowledged: 'Acknowledged: escalation has stopped.',
      noted: 'Note added to the timeline.',
      published: 'Status message published.',
      resolving: 'Resolve requested: the incident resolves once the probes prove recovery.',
      'force-resolved': 'Resolved without probe proof; the postmortem starts.',
      'severity-changed': 'Severity changed; auto-publish and the deadlines follow the new severity.',
      'responder-added': 'Responder added: they are paged now, and told when it is resolved.',
      snoozed: 'Snoozed: at the end of the snooze it is paged again, unless it is resolved.',
      reopened: 'Reopened: this new incident pages now; its reason names the one it reopens.',
      merged:
        'Merged: the other incident is closed into this one; its people are told when this one is resolved.',
    },
    paged: 'Paged',
    nobodyPaged: 'Nobody has been paged.',
    cols: {
      when: 'When',
      who: 'Who',
      level: 'Level',
      why: 'Why',
      whenUtc: 'When (UTC)',
      what: 'What',
      detail: 'Detail',
    },
    addedAsResponder: 'added as a responder',
    finalFallback: 'final fallback',
    level: (n) => `level ${n}`,
    repeat: (n) => ` (repeat ${n})`,
    statusMessages: 'Public status messages',
    nonePublished: 'None published.',
    by: 'by',
    timeline: 'Timeline',
  },
  nb: {
    back: '← Åpne hendelser',
    otherLanguage: 'English',
    facts: {
      incident: 'Hendelse',
      opened: 'Åpnet',
      verified: 'Bekreftet',
      acknowledged: 'Kvittert',
      notYet: 'ikke ennå',
      snoozed: 'Utsatt',
      nextEscalation: 'Neste eskalering',
      closed: 'Lukket',
      recovery: 'Gjenoppretting',
    },
    ackedBy: (who) => `${who},`,
    until: 'til',
    inTime: (d) => `om ${d}`,
    nobodyFurther: 'ingen flere: siste nivå er varslet',
    noneScheduled: 'ingen planlagt',
    closedBanner: (state) => `Denne hendelsen er ${state}; her kan ingenting mer gjøres.`,
    postmortem: 'Etterarbeidet',
    actions: 'Handlinger',
    needsRole: (role, have) => `Krever rollen ${role}; du har ${have}.`,
    noRoles: 'ingen (kun lesing)',
    reopen: {
      label: 'Er problemet tilbake? Gjenåpne det som en ny hendelse som varsler nå',
      placeholder: 'hva som er tilbake',
      button: 'Gjenåpne',
    },
    acknowledge: {
      intro: 'Stopp eskaleringen: du tar saken.',
      again: 'Kvittert. Kvitter igjen for å starte kvitteringsfristen på nytt.',
      button: 'Kvitter',
    },
    note: { label: 'Notat til tidslinjen', button: 'Legg til notat' },
    status: {
      label: 'Offentlig driftsmelding',
      text: 'Tekst (tom: standardteksten for tilstanden)',
      button: 'Publiser',
    },
    resolve: {
      label: 'Løs (sjekkene må så bestå)',
      placeholder: 'hva som løste det (valgfritt)',
      button: 'Løs',
    },
    severity: {
      label: (now) => `Alvorlighet (nå ${now})`,
      why: 'Hvorfor (valgfritt)',
      button: 'Endre alvorlighet',
    },
    responder: {
      label: 'Tilkall en til (varsles nå)',
      why: 'Hvorfor denne personen (valgfritt)',
      button: 'Tilkall',
      everyonePaged: 'Alle kontaktene er varslet for denne hendelsen.',
    },
    snooze: {
      label: 'Utsett til (et UTC-tidspunkt, eller en varighet som 30m; høyst 24 t)',
      button: 'Utsett',
    },
    forceResolve: {
      label: 'Tvangsløs nå, uten bevis fra sjekkene (hvorfor?)',
      placeholder: 'f.eks. sjekkens mål finnes ikke lenger',
      button: 'Tvangsløs',
    },
    merge: {
      label: 'Slå sammen denne hendelsen med (samme driftsavbrudd)',
      why: 'Hvorfor (valgfritt)',
      button: 'Slå sammen',
      none: 'Ingen annen åpen hendelse å slå denne sammen med.',
      mergedInto: 'Slått sammen med',
    },
    done: {
      acknowledged: 'Kvittert: eskaleringen er stoppet.',
      noted: 'Notatet er lagt til i tidslinjen.',
      published: 'Driftsmeldingen er publisert.',
      resolving: 'Løsning bedt om: hendelsen løses når sjekkene viser at tjenesten virker igjen.',
      'force-resolved': 'Løst uten bevis fra sjekkene; etterarbeidet starter.',
      'severity-changed':
        'Alvorligheten er endret; automatisk publisering og fristene følger den nye alvorligheten.',
      'responder-added': 'Tilkalt: personen varsles nå, og får beskjed når hendelsen er løst.',
      snoozed: 'Utsatt: når utsettelsen er over, varsles det igjen, med mindre hendelsen er løst.',
      reopened: 'Gjenåpnet: denne nye hendelsen varsler nå; årsaken nevner hendelsen den gjenåpner.',
      merged:
        'Slått sammen: den andre hendelsen er lukket inn i denne; de som ble varslet for den, får beskjed når denne er løst.',
    },
    paged: 'Varslet',
    nobodyPaged: 'Ingen er varslet.',
    cols: {
      when: 'Når',
      who: 'Hvem',
      level: 'Nivå',
      why: 'Hvorfor',
      whenUtc: 'Når (UTC)',
      what: 'Hva',
      detail: 'Detaljer',
    },
    addedAsResponder: 'tilkalt',
    finalFallback: 'siste reserve',
    level: (n) => `nivå ${n}`,
    repeat: (n) => ` (runde ${n})`,
    statusMessages: 'Offentlige driftsmeldinger',
    nonePublished: 'Ingen er publisert.',
    by: 'av',
    timeline: 'Tidslinje',
  },
};

/** The console's postmortem page of one incident. Its draft (Markdown) is a record and stays as written. */
export interface ConsolePostmortemStrings {
  back: string;
  otherLanguage: string;
  heading: (service: string) => string;
  facts: { state: string; owner: string; due: string; meeting: string; document: string };
  followUps: string;
  noFollowUps: string;
  cols: { task: string; owner: string; due: string; state: string };
  done: string;
  open: string;
  reminded: string;
  reminderOnDueDate: string;
  markDone: string;
  needsResponder: string;
  markedDone: (id: string) => string;
  draft: string;
}

export const consolePostmortemStrings: Record<Lang, ConsolePostmortemStrings> = {
  en: {
    back: '← the incident',
    otherLanguage: 'Norsk',
    heading: (service) => `Postmortem: ${service}`,
    facts: { state: 'State', owner: 'Owner', due: 'Due', meeting: 'Meeting', document: 'Document' },
    followUps: 'Follow-up tasks',
    noFollowUps: 'No follow-up tasks recorded.',
    cols: { task: 'Task', owner: 'Owner', due: 'Due', state: 'State' },
    done: 'done',
    open: 'open',
    reminded: 'reminded',
    reminderOnDueDate: 'reminder on the due date',
    markDone: 'Mark done',
    needsResponder: 'Needs the responder role.',
    markedDone: (id) => `Follow-up ${id} marked done.`,
    draft: 'Draft',
  },
  nb: {
    back: '← hendelsen',
    otherLanguage: 'English',
    heading: (service) => `Etterarbeid: ${service}`,
    facts: { state: 'Tilstand', owner: 'Eier', due: 'Frist', meeting: 'Møte', document: 'Dokument' },
    followUps: 'Oppfølgingsoppgaver',
    noFollowUps: 'Ingen oppfølgingsoppgaver er registrert.',
    cols: { task: 'Oppgave', owner: 'Eier', due: 'Frist', state: 'Tilstand' },
    done: 'ferdig',
    open: 'åpen',
    reminded: 'påminnet',
    reminderOnDueDate: 'påminnelse på fristen',
    markDone: 'Merk som ferdig',
    needsResponder: 'Krever rollen responder.',
    markedDone: (id) => `Oppfølging ${id} er merket som ferdig.`,
    draft: 'Utkast',
  },
};

/** The console's login page and its answers (an OpenID provider's refusal is said as it comes). */
export interface ConsoleLoginStrings {
  title: string;
  heading: string;
  token: string;
  button: string;
  /** Before `(Authorization: Bearer …)`. */
  sameAsApi: string;
  oidc: (provider: string) => string;
  staleForm: string;
  unknownToken: string;
  signedInTitle: string;
  signedIn: string;
  continue: string;
}

export const consoleLoginStrings: Record<Lang, ConsoleLoginStrings> = {
  en: {
    title: 'Log in — incident console',
    heading: 'Incident console',
    token: 'Staff token',
    button: 'Log in',
    sameAsApi: 'The same token as for the API',
    oidc: (provider) => `Sign in with ${provider}`,
    staleForm: 'This login form is out of date or did not come from this site. Try again.',
    unknownToken: 'Unknown or revoked token.',
    signedInTitle: 'Signed in — incident console',
    signedIn: 'Signed in',
    continue: 'Continue to the console',
  },
  nb: {
    title: 'Logg inn — hendelseskonsoll',
    heading: 'Hendelseskonsoll',
    token: 'Tilgangsnøkkel',
    button: 'Logg inn',
    sameAsApi: 'Samme nøkkel som for API-et',
    oidc: (provider) => `Logg inn med ${provider}`,
    staleForm: 'Dette innloggingsskjemaet er utdatert eller kom ikke fra dette nettstedet. Prøv igjen.',
    unknownToken: 'Ukjent eller tilbakekalt nøkkel.',
    signedInTitle: 'Logget inn — hendelseskonsoll',
    signedIn: 'Logget inn',
    continue: 'Fortsett til konsollet',
  },
};

/** Error pages' headings by status. */
export const errorHeadings: Record<Lang, Record<number, string>> = {
  en: {
    400: 'Bad request',
    401: 'Not logged in',
    403: 'Forbidden',
    404: 'Not found',
    409: 'Conflict',
    413: 'Too large',
    415: 'Unsupported form',
    429: 'Too many requests',
    503: 'Temporarily unavailable',
  },
  nb: {
    400: 'Ugyldig forespørsel',
    401: 'Ikke logget inn',
    403: 'Ingen tilgang',
    404: 'Finnes ikke',
    409: 'Konflikt',
    413: 'For stort',
    415: 'Ukjent skjemaformat',
    429: 'For mange forespørsler',
    503: 'Midlertidig utilgjengelig',
  },
};

/**
 * The console's refusals in nb (in en they are the API's own words, domain/access.ts): a missing
 * role names the action (each console route's `config.action`), what it needs and what the person
 * has; an ended session and a stale form say what to do.
 */
export const consoleRefusalsNb = {
  actions: {
    Acknowledging: 'Å kvittere',
    'Adding a note': 'Å legge til et notat',
    'Adding a responder': 'Å tilkalle en til',
    'Changing the severity': 'Å endre alvorligheten',
    'Deleting an on-call override': 'Å slette et vaktbytte',
    'Force-resolving': 'Å tvangsløse',
    'Making an on-call override': 'Å lage et vaktbytte',
    'Marking a follow-up done': 'Å merke en oppfølging som ferdig',
    'Merging incidents': 'Å slå sammen hendelser',
    'Pausing a monitor (maintenance)': 'Å pause en sjekk (vedlikehold)',
    'Publishing a status message': 'Å publisere en driftsmelding',
    'Reopening an incident': 'Å gjenåpne en hendelse',
    Resolving: 'Å løse',
    'Resuming a monitor (maintenance)': 'Å gjenoppta en sjekk (vedlikehold)',
    Snoozing: 'Å utsette',
  } as Record<string, string>,
  missingRole: (actorName: string, roles: readonly string[], needed: string, action?: string): string => {
    const what = (action && consoleRefusalsNb.actions[action]) ?? 'Dette';
    const have =
      roles.length === 0
        ? 'ingen rolle (kun lesing)'
        : `${roles.length > 1 ? 'rollene' : 'rollen'} ${roles.join(', ')}`;
    return `${what} krever rollen ${needed}; ${actorName} har ${have}.`;
  },
  sessionEnded: 'Økten din er avsluttet. Logg inn igjen.',
  staleForm: 'Dette skjemaet er utdatert eller kom ikke fra konsollet. Last siden på nytt og prøv igjen.',
};

/** An incident's state as the console shows it: the API's word in en, bokmål in nb. */
export const incidentStateWords: Record<Lang, Record<IncidentState, string>> = {
  en: {
    verifying: 'verifying',
    dismissed: 'dismissed',
    triggered: 'triggered',
    acknowledged: 'acknowledged',
    resolving: 'resolving',
    resolved: 'resolved',
  },
  nb: {
    verifying: 'sjekkes',
    dismissed: 'avvist',
    triggered: 'utløst',
    acknowledged: 'kvittert',
    resolving: 'løses',
    resolved: 'løst',
  },
};

/** A state from the API or the record store in the console's words; an unknown one as it is. */
export function incidentStateWord(lang: Lang, state: string): string {
  return (incidentStateWords[lang] as Record<string, string | undefined>)[state] ?? state;
}
