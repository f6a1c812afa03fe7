"""The demo's month of bookings: a two-location salon chain, generated deterministically from a seed.

About fifty clients of "Lumen", a salon in Warsaw and one in Kyiv, book visits over one month.
Each client lives one story: regular visits that are confirmed and completed, a visit moved to
another day (or moved and moved back), a cancellation, a no-show, a request the salon rejects, a
booking made a few hours ahead, or a repeat-visit cycle that a new booking holds and its
cancellation restores. Clients speak pl, uk, ru, en or it, and reach the salon by SMS, e-mail or
push with the consents they gave (a few gave none, a few left a landline or a national number);
every second one also takes WhatsApp messages on their phone, every third linked a Telegram chat
(``addresses.telegram``), and all who agreed to SMS or e-mail may get a message staff send by hand.

The same month and seed always give the same events, byte for byte.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from attrs import define, field, frozen

from tidings.durations import localize

__all__ = ["DEFAULT_MONTH", "DEFAULT_SEED", "events_text", "generate_events"]

DEFAULT_MONTH = date(2026, 3, 1)   # a month with the change to summer time in both zones (29 March)
DEFAULT_SEED = 2026


@frozen
class Place:
    """One location of the chain, as the generator books it (the config's [locations] agree)."""

    id: str
    zone: ZoneInfo
    hours: tuple[tuple[int, int] | None, ...]    # (opens, closes) in whole hours per weekday, Monday first
    currency: str
    staff: tuple[tuple[str, str], ...]


PLACES = (
    Place("warsaw", ZoneInfo("Europe/Warsaw"), ((9, 20),) * 5 + ((9, 15), None), "PLN",
          (("s-w1", "Agnieszka"), ("s-w2", "Marta"), ("s-w3", "Paweł"))),
    Place("kyiv", ZoneInfo("Europe/Kyiv"), ((10, 20),) * 5 + ((10, 18), (11, 16)), "UAH",
          (("s-k1", "Oksana"), ("s-k2", "Iryna"), ("s-k3", "Dmytro"))),
)

# id: (name, category, minutes, price in PLN; UAH is ten times the number)
SERVICES: dict[str, tuple[str, str, int, int]] = {
    "manicure": ("Manicure", "nails", 60, 120),
    "gel-manicure": ("Gel manicure", "nails", 90, 160),
    "pedicure": ("Pedicure", "nails", 75, 150),
    "haircut": ("Haircut", "hair", 45, 110),
    "colouring": ("Colouring", "hair", 120, 320),
    "blow-dry": ("Blow-dry", "hair", 30, 70),
    "brows": ("Brow shaping", "brows", 30, 60),
    "lash-lift": ("Lash lift", "brows", 60, 180),
}
BY_CATEGORY = {c: [s for s, v in SERVICES.items() if v[1] == c] for c in ("nails", "hair", "brows")}

# (display name, the same in Latin letters for the e-mail address)
NAMES: dict[str, tuple[tuple[str, str], ...]] = {
    "pl": (("Ola Nowak", "ola.nowak"), ("Kasia Wiśniewska", "kasia.wisniewska"), ("Zofia Wójcik", "zofia.wojcik"),
           ("Magda Kowalczyk", "magda.kowalczyk"), ("Anna Kamińska", "anna.kaminska"), ("Ewa Lewandowska", "ewa.lewandowska"),
           ("Julia Zielińska", "julia.zielinska"), ("Marta Szymańska", "marta.szymanska"), ("Beata Woźniak", "beata.wozniak"),
           ("Iga Dąbrowska", "iga.dabrowska"), ("Natalia Kozłowska", "natalia.kozlowska"), ("Piotr Jankowski", "piotr.jankowski"),
           ("Tomasz Mazur", "tomasz.mazur"), ("Agata Krawczyk", "agata.krawczyk"), ("Ola Piotrowska", "ola.piotrowska"),
           ("Joanna Grabowska", "joanna.grabowska"), ("Łucja Pawlak", "lucja.pawlak"), ("Monika Michalska", "monika.michalska"),
           ("Kamil Król", "kamil.krol"), ("Renata Wieczorek", "renata.wieczorek")),
    "uk": (("Олена Шевченко", "olena.shevchenko"), ("Ірина Коваленко", "iryna.kovalenko"), ("Оксана Бондаренко", "oksana.bondarenko"),
           ("Наталія Ткаченко", "nataliia.tkachenko"), ("Юлія Кравченко", "yuliia.kravchenko"), ("Марія Олійник", "mariia.oliinyk"),
           ("Тетяна Мельник", "tetiana.melnyk"), ("Андрій Бойко", "andrii.boiko"), ("Катерина Лисенко", "kateryna.lysenko"),
           ("Світлана Руденко", "svitlana.rudenko"), ("Дарина Савченко", "daryna.savchenko"), ("Софія Павленко", "sofiia.pavlenko"),
           ("Вікторія Марченко", "viktoriia.marchenko"), ("Анна Петренко", "anna.petrenko"), ("Ганна Кузьменко", "hanna.kuzmenko"),
           ("Людмила Гончар", "liudmyla.honchar"), ("Олег Романенко", "oleh.romanenko"), ("Яна Левченко", "yana.levchenko")),
    "ru": (("Анна Смирнова", "anna.smirnova"), ("Екатерина Иванова", "ekaterina.ivanova"), ("Мария Кузнецова", "maria.kuznetsova"),
           ("Ольга Попова", "olga.popova"), ("Елена Соколова", "elena.sokolova"), ("Дарья Морозова", "daria.morozova"),
           ("Алина Волкова", "alina.volkova"), ("Ксения Лебедева", "ksenia.lebedeva"), ("Виктория Новикова", "viktoria.novikova")),
    "en": (("Emma Clarke", "emma.clarke"), ("Olivia Bennett", "olivia.bennett"), ("Sophie Turner", "sophie.turner"),
           ("Grace Walker", "grace.walker"), ("James Fletcher", "james.fletcher"), ("Chloe Harris", "chloe.harris"),
           ("Lucy Evans", "lucy.evans")),
    "it": (("Giulia Rossi", "giulia.rossi"), ("Chiara Bianchi", "chiara.bianchi"), ("Francesca Romano", "francesca.romano"),
           ("Sara Colombo", "sara.colombo"), ("Marco Ricci", "marco.ricci")),
}
# clients per (location, locale): 27 in Warsaw, 23 in Kyiv
CLIENTS = {("warsaw", "pl"): 17, ("warsaw", "uk"): 4, ("warsaw", "en"): 3, ("warsaw", "it"): 2, ("warsaw", "ru"): 1,
           ("kyiv", "uk"): 11, ("kyiv", "ru"): 6, ("kyiv", "en"): 3, ("kyiv", "it"): 3}

MOBILE = {"warsaw": ("50", "51", "53", "57", "60", "66", "69", "72", "73", "78", "79", "88"),
          "kyiv": ("50", "63", "66", "67", "68", "73", "93", "95", "96", "97", "98", "99")}
COUNTRY = {"warsaw": "+48", "kyiv": "+380"}
LANDLINE = {"warsaw": "+4822", "kyiv": "+38044"}

# how clients can be reached, and how many of the fifty are reached that way
REACH = (("sms+email", 19), ("sms+email+push", 10), ("email only", 5), ("sms only", 5), ("push+email", 3),
         ("no consent", 2), ("landline", 3), ("national number", 3))

# the stories every month has at least once, so the timelines have something to show; the rest are regulars
STORIES = ("back-and-forth", "back-and-forth-after-reminder", "repeat-held-then-restored", "repeat-held-then-restored",
           "repeat-held-then-restored", "repeat-rebooked", "repeat-rebooked", "repeat-other-category",
           "cancelled", "cancelled", "cancelled", "cancelled-late", "no-show", "no-show", "rejected",
           "booked-hours-ahead", "booked-hours-ahead", "rescheduled", "rescheduled", "rescheduled", "muted-reminder")


@frozen
class Client:
    """A client as the host platform sends it."""

    id: str
    name: str
    locale: str
    place: Place
    contact: dict[str, Any]


@define
class Booking:
    """One appointment and the events the host publishes about it, in order."""

    id: str
    client: Client
    start: datetime
    services: tuple[str, ...]
    staff: tuple[str, str]
    status: str = "pending"
    mute: list[str] | None = None
    events: list[tuple[datetime, dict[str, Any]]] = field(factory=list)

    @property
    def minutes(self) -> int:
        return sum(SERVICES[s][2] for s in self.services)

    @property
    def end(self) -> datetime:
        return self.start + timedelta(minutes=self.minutes)

    def snapshot(self) -> dict[str, Any]:
        place = self.client.place
        price = sum(SERVICES[s][3] for s in self.services) * (10 if place.currency == "UAH" else 1)
        subject: dict[str, Any] = {
            "id": self.id, "status": self.status, "start": self.start.isoformat(), "end": self.end.isoformat(),
            "location": place.id,
            "services": [{"id": s, "name": SERVICES[s][0], "category": SERVICES[s][1]} for s in self.services],
            "staff": {"id": self.staff[0], "name": self.staff[1]},
            "client": {"id": self.client.id, "name": self.client.name, "locale": self.client.locale, **self.client.contact},
            "data": {"price": f"{price} {place.currency}"},
        }
        if self.mute:
            subject["mute"] = list(self.mute)
        return subject

    def _publish(self, at: datetime, verb: str, previous: dict[str, Any] | None = None) -> None:
        event: dict[str, Any] = {"id": "", "type": f"appointment.{verb}", "occurred_at": at.isoformat(),
                                 "subject": self.snapshot()}
        if previous is not None:
            event["previous"] = previous
        self.events.append((at, event))

    def created(self, at: datetime) -> None:
        self._publish(at, "created")

    def becomes(self, status: str, at: datetime) -> None:
        previous, self.status = self.status, status
        self._publish(at, "status_changed", {"status": previous})

    def moves(self, start: datetime, at: datetime) -> None:
        previous, self.start = self.start, start
        self._publish(at, "rescheduled", {"start": previous.isoformat()})


@define
class Month:
    """The generator's state: the month, its random source, and every booking made so far."""

    first: date
    rng: random.Random
    bookings: list[Booking] = field(factory=list)

    @property
    def days(self) -> int:
        following = (self.first.replace(day=28) + timedelta(days=4)).replace(day=1)
        return (following - self.first).days

    def day(self, number: int) -> date:
        """The `number`-th day of the month (from 1), or past it for visits that follow the month."""
        return self.first + timedelta(days=number - 1)

    # ------------------------------------------------------------ time

    def slot(self, place: Place, day: date, minutes: int) -> datetime:
        """A start on a quarter hour, on `day` or the next day the location is open, that ends before closing."""
        while place.hours[day.weekday()] is None:
            day += timedelta(days=1)
        opens, closes = place.hours[day.weekday()]   # type: ignore[misc]
        latest = closes * 60 - minutes
        quarter = self.rng.randrange(opens * 4, latest // 15 + 1)
        return localize(datetime.combine(day, time(quarter // 4, quarter % 4 * 15)), place.zone)

    def between(self, earliest: datetime, latest: datetime) -> datetime:
        """A waking moment on a whole minute between two moments (the earlier one if they are close).

        Clients change bookings between 08:00 and 22:00 in their location's zone, unless the two
        moments leave no such time.
        """
        span = int((latest - earliest).total_seconds() // 60)
        moment = earliest + timedelta(minutes=self.rng.randrange(span) if span > 0 else 0)
        local = moment.astimezone(earliest.tzinfo)
        if local.hour < 8:
            moment = localize(datetime.combine(local.date(), time(8, local.minute)), local.tzinfo)  # type: ignore[arg-type]
        elif local.hour >= 22:
            moment = localize(datetime.combine(local.date(), time(21, local.minute)), local.tzinfo)  # type: ignore[arg-type]
        return min(max(moment, earliest), max(latest, earliest))

    def booked_at(self, place: Place, start: datetime, *, days_ahead: tuple[int, int] = (1, 10)) -> datetime:
        """When a client books a visit: some days ahead, at a waking hour in the location's zone."""
        day = start.astimezone(place.zone).date() - timedelta(days=self.rng.randint(*days_ahead))
        moment = localize(datetime.combine(day, time(self.rng.randint(7, 22), self.rng.choice((0, 10, 25, 40, 55)))),
                          place.zone)
        return min(moment, start - timedelta(hours=5))

    def confirmed_at(self, place: Place, booked: datetime) -> datetime:
        """When reception confirms a request: within the hour when open, else soon after the next opening."""
        local = booked.astimezone(place.zone)
        hours = place.hours[local.weekday()]
        if hours is not None and hours[0] <= local.hour < hours[1] - 1:
            return booked + timedelta(minutes=self.rng.randint(5, 55))
        day = local.date() + timedelta(days=1 if hours is None or local.hour >= hours[0] else 0)
        while place.hours[day.weekday()] is None:
            day += timedelta(days=1)
        opens = place.hours[day.weekday()][0]   # type: ignore[index]
        return localize(datetime.combine(day, time(opens, self.rng.randint(5, 50))), place.zone)

    # ------------------------------------------------------------ bookings

    def new(self, client: Client, day: date, services: tuple[str, ...], *, mute: list[str] | None = None) -> Booking:
        """A booking of `services` at a free moment of `day` (or the next open day), with one of the location's staff."""
        start = self.slot(client.place, day, sum(SERVICES[s][2] for s in services))
        booking = Booking(id=f"a-{1001 + len(self.bookings)}", client=client, start=start, services=services,
                          staff=self.rng.choice(client.place.staff), mute=mute)
        self.bookings.append(booking)
        return booking

    def book(self, client: Client, start_day: date, category: str, *, booked: datetime | None = None,
             days_ahead: tuple[int, int] = (1, 10), mute: list[str] | None = None) -> Booking:
        """A booking request for a visit in `category` on `start_day` (or the next open day), then its confirmation."""
        services = [self.rng.choice(BY_CATEGORY[category])]
        if self.rng.random() < 0.2:
            other = self.rng.choice([c for c in BY_CATEGORY if c != category])
            services.append(self.rng.choice(BY_CATEGORY[other]))
        booking = self.new(client, start_day, tuple(services), mute=mute)
        at = booked or self.booked_at(client.place, booking.start, days_ahead=days_ahead)
        booking.created(at)
        confirm = min(self.confirmed_at(client.place, at), booking.start - timedelta(hours=3))
        booking.becomes("confirmed", max(confirm, at + timedelta(minutes=5)))
        return booking

    def done(self, booking: Booking, status: str = "completed") -> datetime:
        """The visit happens (completed a few minutes after its end) or the client does not come (no_show)."""
        at = booking.end + timedelta(minutes=self.rng.randint(0, 15)) if status == "completed" \
            else booking.start + timedelta(minutes=20)
        booking.becomes(status, at)
        return at

    def last_event(self, booking: Booking) -> datetime:
        return booking.events[-1][0]

    # ------------------------------------------------------------ stories

    def live(self, client: Client, story: str) -> None:
        """Make the bookings of one client's month."""
        rng = self.rng
        category = rng.choice(("nails", "nails", "hair", "hair", "brows"))
        if story == "regular":
            visits = rng.choice((1, 1, 2, 2, 3)) if category != "hair" else rng.choice((1, 1, 2))
            gap = rng.randint(9, 14)
            day = rng.randint(1, max(1, self.days - (visits - 1) * gap))
            for _ in range(visits):
                self.done(self.book(client, self.day(day), category))
                day += gap
        elif story in ("back-and-forth", "back-and-forth-after-reminder"):
            booking = self.book(client, self.day(rng.randint(8, self.days - 6)), category, days_ahead=(5, 9))
            first = booking.start
            later = self.slot(client.place, first.date() + timedelta(days=rng.randint(2, 4)), booking.minutes)
            if story == "back-and-forth":
                # both moves long before the day before: the reminders follow, and one of each goes out
                booking.moves(later, self.between(self.last_event(booking) + timedelta(hours=1), first - timedelta(days=3)))
                booking.moves(first, self.between(self.last_event(booking) + timedelta(hours=1), first - timedelta(days=2)))
            else:
                # moved away after the 24 h reminder went out, then back: that reminder is not sent twice
                booking.moves(later, first - timedelta(hours=rng.randint(18, 22)))
                booking.moves(first, first - timedelta(hours=rng.randint(6, 10)))
            self.done(booking)
        elif story.startswith("repeat-"):
            cycle_category = "nails" if story != "repeat-held-then-restored" or rng.random() < 0.7 else "hair"
            completed = self.done(self.book(client, self.day(rng.randint(1, 6)), cycle_category))
            later_category = "brows" if story == "repeat-other-category" else cycle_category
            again = self.book(client, self.day(rng.randint(13, 19)), later_category,
                              booked=completed + timedelta(days=rng.randint(1, 4), hours=rng.randint(0, 3)))
            if story == "repeat-held-then-restored":
                # the new booking held the invitation; its cancellation brings it back (PRODUCT §5)
                again.becomes("cancelled", self.between(self.last_event(again) + timedelta(hours=2),
                                                        again.start - timedelta(days=1)))
            else:
                self.done(again)
        elif story in ("cancelled", "cancelled-late"):
            booking = self.book(client, self.day(rng.randint(3, self.days)), category)
            if story == "cancelled":
                at = self.between(self.last_event(booking) + timedelta(hours=1), booking.start - timedelta(hours=26))
            else:
                # after the day-before reminder, before the 2 h one
                at = booking.start - timedelta(hours=rng.randint(3, 20))
            booking.becomes("cancelled", max(at, self.last_event(booking) + timedelta(minutes=10)))
        elif story == "no-show":
            self.done(self.book(client, self.day(rng.randint(2, self.days)), category), "no_show")
        elif story == "rejected":
            booking = self.new(client, self.day(rng.randint(4, self.days)), (BY_CATEGORY[category][0],))
            booking.created(self.booked_at(client.place, booking.start))
            booking.becomes("rejected", self.confirmed_at(client.place, self.last_event(booking)))
            # ... and the client books another day instead
            self.done(self.book(client, booking.start.date() + timedelta(days=rng.randint(1, 3)), category))
        elif story == "booked-hours-ahead":
            booking = self.new(client, self.day(rng.randint(2, self.days)), (BY_CATEGORY[category][0],))
            # booked the same day: too late for the 24 h reminder, in time for the 2 h one
            morning = localize(datetime.combine(booking.start.astimezone(client.place.zone).date(), time(7)), client.place.zone)
            booking.created(max(morning, booking.start - timedelta(hours=rng.randint(3, 6), minutes=rng.choice((0, 20, 40)))))
            booking.becomes("confirmed", self.last_event(booking) + timedelta(minutes=rng.randint(5, 30)))
            self.done(booking)
        elif story == "rescheduled":
            booking = self.book(client, self.day(rng.randint(3, self.days - 5)), category)
            moved = self.slot(client.place, booking.start.date() + timedelta(days=rng.choice((-2, -1, 1, 2, 3))),
                              booking.minutes)
            if moved < self.last_event(booking) + timedelta(hours=6):
                # too soon to move to: the client picks a later day instead
                moved = self.slot(client.place, booking.start.date() + timedelta(days=2), booking.minutes)
            at = self.between(self.last_event(booking) + timedelta(minutes=30),
                              min(booking.start, moved) - timedelta(hours=4))
            booking.moves(moved, max(at, self.last_event(booking) + timedelta(minutes=10)))
            self.done(booking)
        elif story == "muted-reminder":
            # "no texts on the day, please": the host marks the booking, and the 2 h reminder stays silent
            self.done(self.book(client, self.day(rng.randint(3, self.days)), category, mute=["reminder-2h"]))
        else:
            raise ValueError(f"unknown story {story!r}")


def _contact(rng: random.Random, place: Place, latin: str, reach: str, index: int) -> dict[str, Any]:
    local = rng.choice(MOBILE[place.id]) + f"{rng.randrange(10**7):07d}"
    phone: str | None = COUNTRY[place.id] + local
    email: str | None = f"{latin}@example.com"
    consents = {"sms": True, "email": True, "push": False}
    push: list[dict[str, Any]] = []
    if reach in ("sms+email+push", "push+email"):
        # the two keys a browser's PushSubscription.toJSON() gives: a P-256 point and a 16-octet secret
        point = bytes([4]) + rng.randbytes(64)
        push = [{"endpoint": f"https://push.example/lumen/{index:03d}",
                 "keys": {"p256dh": _b64url(point), "auth": _b64url(rng.randbytes(16))}}]
        consents["push"] = True
        if reach == "push+email":
            consents["sms"] = False
    elif reach == "email only":
        consents["sms"] = False
    elif reach == "sms only":
        email = None
        consents["email"] = False
    elif reach == "no consent":
        consents = {"sms": False, "email": False, "push": False}
    elif reach == "landline":
        phone = LANDLINE[place.id] + f"{rng.randrange(10**7):07d}"
    elif reach == "national number":
        # typed without the country code: read in the location's region (PL in Warsaw, UA in Kyiv)
        phone = f"{local[:3]} {local[3:6]} {local[6:]}" if place.id == "warsaw" else f"0{local[:2]} {local[2:5]} {local[5:]}"
    # the other channels follow from the client's number, not from the random stream, so the month's
    # bookings are the same as before they existed
    anything = consents["sms"] or consents["email"]
    consents["whatsapp"] = anything and phone is not None and index % 2 == 0
    telegram = anything and index % 3 == 0
    consents["telegram"] = telegram
    consents["manual"] = anything
    contact: dict[str, Any] = {}
    if phone:
        contact["phone"] = phone
    if email:
        contact["email"] = email
    contact["consents"] = consents
    if push:
        contact["push"] = push
    if telegram:
        contact["addresses"] = {"telegram": str(5_100_000_000 + index)}   # the chat id the bot learnt at /start
    return contact


def _b64url(data: bytes) -> str:
    import base64
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def clients(rng: random.Random) -> list[Client]:
    """The chain's fifty clients, each with a name in their locale and a way to be reached."""
    places = {p.id: p for p in PLACES}
    out: list[Client] = []
    used: dict[str, int] = {}
    reaches = [name for name, count in REACH for _ in range(count)]
    rng.shuffle(reaches)
    for (place_id, locale), count in CLIENTS.items():
        for _ in range(count):
            names = NAMES[locale]
            name, latin = names[used.get(locale, 0) % len(names)]
            used[locale] = used.get(locale, 0) + 1
            index = len(out) + 1
            reach = reaches[len(out) % len(reaches)]
            out.append(Client(id=f"c-{index:02d}", name=name, locale=locale, place=places[place_id],
                              contact=_contact(rng, places[place_id], latin, reach, index)))
    return out


def generate_events(month: date = DEFAULT_MONTH, *, seed: int = DEFAULT_SEED) -> list[dict[str, Any]]:
    """The month's events in the order they occur, with ids evt-0001, evt-0002, ...

    Args:
        month: any day of the month to generate (visits fall in it; some bookings are made the week before).
        seed: the random source's seed; the same month and seed give the same events.
    """
    rng = random.Random(f"tidings-demo:{seed}")
    state = Month(first=month.replace(day=1), rng=rng)
    people = clients(rng)
    stories = list(STORIES) + ["regular"] * (len(people) - len(STORIES))
    rng.shuffle(stories)
    for client, story in zip(people, stories, strict=True):
        state.live(client, story)
    timed = [(at, order, event) for order, (at, event) in enumerate(e for b in state.bookings for e in b.events)]
    timed.sort(key=lambda item: (item[0], item[1]))
    out: list[dict[str, Any]] = []
    for number, (_, _, event) in enumerate(timed, 1):
        out.append({**event, "id": f"evt-{number:04d}"})
    return out


def events_text(events: Sequence[dict[str, Any]]) -> str:
    """Events as JSON lines, the input of `tidings simulate`."""
    return "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events)

