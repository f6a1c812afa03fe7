"""The built-in texts of the four triggers, in en, pl, uk, ru and it (for rules that name no template).

Each locale is a table of phrases, one per situation (a booking confirmed, moved, cancelled, an
order ready, ...); `default_texts` assembles them into Jinja templates for every channel part:
``sms.text``, ``email.subject`` / ``email.text`` / ``email.html`` and ``push.title`` / ``push.body``.
Every optional field is guarded, so a subject without staff, services, a location name or a start
still renders. Phrases may use ``who`` (the recipient's name), ``what`` (the services), ``when``
(the start, formatted), ``before`` (the previous start), ``where`` (the location's name) and
``status`` (the status, readable).

SMS texts are short (one GSM-7 segment in en, it and pl where the data allow; Polish SMS are
written without diacritics, as Polish businesses do to stay in GSM-7); e-mail and push texts are
written in full.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from tidings import TemplateTexts

LOCALES = ("en", "pl", "uk", "ru", "it")
NL = "{{ '\\n' }}"   # a line break that survives trim_blocks after a block tag

# the variables every phrase may use, set at the top of each template
PRELUDE = (
    '{% set who = recipient.name if recipient and recipient.name else "" %}'
    '{% set what = services | map(attribute="name") | join(", ") %}'
    '{% set when = subject.start | datetime if subject.start else "" %}'
    '{% set before = previous.start | datetime if previous and previous.start else "" %}'
    '{% set where = location.name %}'
    '{% set status = (subject.status or "") | replace("_", " ") %}'
    '{% set verb = event.verb if event else "" %}'
)

# Cyrillic SMS are UCS-2 (70 characters a segment): their dates leave out the year
SMS_PRELUDE = {locale: '{% set when = subject.start | date("d MMM") ~ ", " ~ subject.start | time if subject.start else "" %}'
                       '{% set before = previous.start | date("d MMM") ~ ", " ~ previous.start | time if previous and previous.start else "" %}'
               for locale in ("uk", "ru")}

# the situations of status-change, tested in this order
STATUS_SITUATIONS = (
    ("staff", 'rule.recipient == "staff"'),
    ("order_created", 'subject.kind == "order" and verb == "created"'),
    ("order_ready", 'subject.kind == "order" and subject.status in ("ready", "ready_for_pickup", "ready_for_collection")'),
    ("order_working", 'subject.kind == "order" and subject.status in ("in_progress", "in_repair", "in_work", "processing")'),
    ("order_done", 'subject.kind == "order" and subject.status in ("completed", "done", "delivered", "collected")'),
    ("order_cancelled", 'subject.kind == "order" and subject.status in ("cancelled", "rejected")'),
    ("order_other", 'subject.kind == "order"'),
    ("lead_created", 'subject.kind == "lead" and verb == "created"'),
    ("lead_other", 'subject.kind == "lead"'),
    ("rescheduled", 'verb == "rescheduled"'),
    ("requested", 'subject.status == "pending"'),
    ("confirmed", 'subject.status == "confirmed"'),
    ("cancelled", 'subject.status == "cancelled"'),
    ("rejected", 'subject.status == "rejected"'),
    ("completed", 'subject.status == "completed"'),
    ("no_show", 'subject.status == "no_show"'),
    ("other", None),
)

# ---------------------------------------------------------------- phrases
# Per locale: "hello" (greeting, SMS and e-mail), "bye" (e-mail sign-off), the e-mail detail labels,
# and per trigger / situation: "sms" (the SMS after the greeting), "title" (e-mail subject, push
# title) and "body" (e-mail paragraph, push body).

OPT = {  # optional pieces, per locale
    "en": {"what": " for {{ what }}", "when": " on {{ when }}", "where": " at {{ where }}"},
    "pl": {"what": " ({{ what }})", "when": " {{ when }}", "where": " w {{ where }}"},
    "uk": {"what": " ({{ what }})", "when": " на {{ when }}", "where": " у {{ where }}"},
    "ru": {"what": " ({{ what }})", "when": " на {{ when }}", "where": " в {{ where }}"},
    "it": {"what": " per {{ what }}", "when": " il {{ when }}", "where": " presso {{ where }}"},
}


def _opt(locale: str, piece: str) -> str:
    return "{% if " + piece + " %}" + OPT[locale][piece] + "{% endif %}"


@functools.cache   # one table per locale, shared by the four triggers
def _phrases(locale: str) -> dict[str, dict[str, dict[str, str]]]:
    w, t, p = _opt(locale, "what"), _opt(locale, "when"), _opt(locale, "where")
    if locale == "en":
        return {
            "status-change": {
                "staff": {"sms": "{% if verb == 'rescheduled' %}Moved{% elif verb == 'created' %}New booking{% else %}{{ status | capitalize }}{% endif %}: {{ client.name if client else subject.id }}" + w + t + "{% if verb == 'created' and status %} ({{ status }}){% endif %}",
                          "title": "{% if verb == 'rescheduled' %}Booking moved{% elif verb == 'created' %}New booking{% else %}Booking {{ status }}{% endif %}: {{ client.name if client else subject.id }}",
                          "body": "{{ client.name if client else subject.id }}" + w + t + p + "{% if before %} (was {{ before }}){% endif %}. Status: {{ status }}."},
                "order_created": {"sms": "we have received your order {{ subject.id }}" + w + ". We'll let you know when it's ready.",
                                  "title": "We have received your order {{ subject.id }}",
                                  "body": "Thank you! We have received your order {{ subject.id }}" + w + " and will let you know as soon as it is ready."},
                "order_ready": {"sms": "your order {{ subject.id }} is ready for pickup" + p + ".",
                                "title": "Your order {{ subject.id }} is ready",
                                "body": "Good news: your order {{ subject.id }} is ready for pickup" + p + "."},
                "order_working": {"sms": "we're working on your order {{ subject.id }}. We'll let you know when it's ready.",
                                  "title": "Your order {{ subject.id }} is in progress",
                                  "body": "We have started work on your order {{ subject.id }} and will let you know as soon as it is ready."},
                "order_done": {"sms": "your order {{ subject.id }} is complete. Thank you!",
                               "title": "Your order {{ subject.id }} is complete",
                               "body": "Your order {{ subject.id }} is complete. Thank you for choosing us!"},
                "order_cancelled": {"sms": "your order {{ subject.id }} has been cancelled. Questions? Just reply.",
                                    "title": "Your order {{ subject.id }} has been cancelled",
                                    "body": "Your order {{ subject.id }} has been cancelled. If you have any questions, just reply to this message."},
                "order_other": {"sms": "your order {{ subject.id }} is now: {{ status }}.",
                                "title": "Order {{ subject.id }}: {{ status }}",
                                "body": "The status of your order {{ subject.id }} is now: {{ status }}."},
                "lead_created": {"sms": "thank you for your enquiry! We'll get back to you shortly.",
                                 "title": "Thank you for your enquiry",
                                 "body": "Thank you for getting in touch! We have received your enquiry and will get back to you shortly."},
                "lead_other": {"sms": "an update on your enquiry: {{ status }}.",
                               "title": "Your enquiry: {{ status }}",
                               "body": "An update on your enquiry: {{ status }}."},
                "rescheduled": {"sms": "your visit" + w + " has been moved" + "{% if when %} to {{ when }}{% endif %}" + ". See you then!",
                                "title": "Your visit has been moved{% if when %} to {{ when }}{% endif %}",
                                "body": "Your visit" + w + " has been moved{% if before %} from {{ before }}{% endif %}{% if when %} to {{ when }}{% endif %}" + p + "."},
                "requested": {"sms": "we have received your booking request" + w + t + ". We'll confirm it shortly.",
                              "title": "We have received your booking request",
                              "body": "Thank you! We have received your booking request" + w + t + " and will confirm it shortly."},
                "confirmed": {"sms": "your visit" + w + t + " is confirmed. See you soon!",
                              "title": "Your visit is confirmed{% if when %}: {{ when }}{% endif %}",
                              "body": "Your visit" + w + t + p + " is confirmed. We look forward to seeing you!"},
                "cancelled": {"sms": "your visit" + w + t + " has been cancelled. We hope to see you another time.",
                              "title": "Your visit has been cancelled",
                              "body": "Your visit" + w + t + " has been cancelled. We hope to see you another time, and you are welcome to book again whenever it suits you."},
                "rejected": {"sms": "unfortunately we can't accept your booking" + t + ". Please choose another time.",
                             "title": "We can't accept your booking",
                             "body": "We are sorry, but we can't accept your booking" + w + t + ". Please choose another time that suits you."},
                "completed": {"sms": "thank you for your visit! We hope to see you again soon.",
                              "title": "Thank you for your visit",
                              "body": "Thank you for your visit" + p + "! We hope you enjoyed it and look forward to seeing you again."},
                "no_show": {"sms": "we missed you today. Would you like to book a new time?",
                            "title": "We missed you",
                            "body": "We missed you at your visit" + t + ". Would you like to book a new time? We'll be glad to see you."},
                "other": {"sms": "your booking" + t + " is now: {{ status }}.",
                          "title": "Your booking: {{ status }}",
                          "body": "The status of your booking" + w + t + " is now: {{ status }}."},
            },
            "pre-visit": {
                "staff": {"sms": "Upcoming: {{ client.name if client else subject.id }}" + w + t + ".",
                          "title": "Upcoming: {{ client.name if client else subject.id }}{% if when %}, {{ when }}{% endif %}",
                          "body": "{{ client.name if client else subject.id }}" + w + t + p + "."},
                "order": {"sms": "a reminder about your order {{ subject.id }}" + t + p + ".",
                          "title": "Reminder: your order {{ subject.id }}",
                          "body": "A friendly reminder about your order {{ subject.id }}" + t + p + "."},
                "client": {"sms": "a reminder of your visit" + w + t + p + ". See you soon!",
                           "title": "Reminder: your visit{% if when %} on {{ when }}{% endif %}",
                           "body": "A friendly reminder of your visit" + w + t + p + ". If your plans have changed, please let us know in advance."},
            },
            "post-visit": {
                "client": {"sms": "thank you for your visit" + p + "! How did we do? We'd love your feedback.{% if data.review_url is defined %} {{ data.review_url }}{% endif %}",
                           "title": "How was your visit?",
                           "body": "Thank you for visiting us" + p + "! We'd love to hear how it went: your feedback helps us get better.{% if data.review_url is defined %} You can leave a review here: {{ data.review_url }}{% endif %}"},
            },
            "repeat-visit": {
                "client": {"sms": "it's time for your next visit" + w + "! Book a time that suits you" + p + ".",
                           "title": "Time for your next visit",
                           "body": "It's been a while since your last visit{% if subject.start %} on {{ subject.start | date }}{% endif %}, so it may be time to book again" + w + ". We'd be happy to see you" + p + "!"},
            },
            "_": {"hello": "Hi{% if who %} {{ who }}{% endif %}, ", "hello_mail": "Hi{% if who %} {{ who }}{% endif %},",
                  "bye": "See you soon!", "when": "When", "what": "Services", "where": "Where",
                  "confirm": "Confirm your visit", "cancel": "Cancel your visit"},
        }
    if locale == "pl":
        return {
            "status-change": {
                "staff": {"sms": "{% if verb == 'rescheduled' %}Przeniesiona{% elif verb == 'created' %}Nowa rezerwacja{% else %}Status {{ status }}{% endif %}: {{ client.name if client else subject.id }}" + w + t + "{% if verb == 'created' and status %} ({{ status }}){% endif %}",
                          "title": "{% if verb == 'rescheduled' %}Przeniesiona wizyta{% elif verb == 'created' %}Nowa rezerwacja{% else %}Zmiana statusu ({{ status }}){% endif %}: {{ client.name if client else subject.id }}",
                          "body": "{{ client.name if client else subject.id }}" + w + t + p + "{% if before %} (wcześniej {{ before }}){% endif %}. Status: {{ status }}."},
                "order_created": {"sms": "przyjelismy Twoje zamowienie {{ subject.id }}. Damy znac, gdy bedzie gotowe.",
                                  "title": "Przyjęliśmy Twoje zamówienie {{ subject.id }}",
                                  "body": "Dziękujemy! Przyjęliśmy Twoje zamówienie {{ subject.id }}" + w + " i damy znać, gdy tylko będzie gotowe."},
                "order_ready": {"sms": "Twoje zamowienie {{ subject.id }} jest gotowe do odbioru.",
                                "title": "Zamówienie {{ subject.id }} jest gotowe do odbioru",
                                "body": "Dobra wiadomość: Twoje zamówienie {{ subject.id }} jest gotowe do odbioru" + p + "."},
                "order_working": {"sms": "pracujemy nad Twoim zamowieniem {{ subject.id }}. Damy znac, gdy bedzie gotowe.",
                                  "title": "Zamówienie {{ subject.id }} jest w realizacji",
                                  "body": "Rozpoczęliśmy pracę nad Twoim zamówieniem {{ subject.id }}. Damy znać, gdy tylko będzie gotowe."},
                "order_done": {"sms": "Twoje zamowienie {{ subject.id }} zostalo zrealizowane. Dziekujemy!",
                               "title": "Zamówienie {{ subject.id }} zostało zrealizowane",
                               "body": "Twoje zamówienie {{ subject.id }} zostało zrealizowane. Dziękujemy, że jesteś z nami!"},
                "order_cancelled": {"sms": "Twoje zamowienie {{ subject.id }} zostalo anulowane. W razie pytan odpisz na te wiadomosc.",
                                    "title": "Zamówienie {{ subject.id }} zostało anulowane",
                                    "body": "Twoje zamówienie {{ subject.id }} zostało anulowane. Jeśli masz pytania, po prostu odpowiedz na tę wiadomość."},
                "order_other": {"sms": "status zamowienia {{ subject.id }}: {{ status }}.",
                                "title": "Zamówienie {{ subject.id }}: {{ status }}",
                                "body": "Aktualny status Twojego zamówienia {{ subject.id }}: {{ status }}."},
                "lead_created": {"sms": "dziekujemy za zapytanie! Wkrotce sie odezwiemy.",
                                 "title": "Dziękujemy za zapytanie",
                                 "body": "Dziękujemy za kontakt! Otrzymaliśmy Twoje zapytanie i wkrótce się odezwiemy."},
                "lead_other": {"sms": "aktualizacja Twojego zapytania: {{ status }}.",
                               "title": "Twoje zapytanie: {{ status }}",
                               "body": "Aktualny status Twojego zapytania: {{ status }}."},
                "rescheduled": {"sms": "Twoja wizyta" + w + " zostala przeniesiona{% if when %} na {{ when }}{% endif %}. Do zobaczenia!",
                                "title": "Twoja wizyta została przeniesiona{% if when %} na {{ when }}{% endif %}",
                                "body": "Twoja wizyta" + w + " została przeniesiona{% if before %} z {{ before }}{% endif %}{% if when %} na {{ when }}{% endif %}" + p + "."},
                "requested": {"sms": "otrzymalismy Twoja prosbe o rezerwacje" + w + t + ". Wkrotce ja potwierdzimy.",
                              "title": "Otrzymaliśmy Twoją prośbę o rezerwację",
                              "body": "Dziękujemy! Otrzymaliśmy Twoją prośbę o rezerwację" + w + t + " i wkrótce ją potwierdzimy."},
                "confirmed": {"sms": "potwierdzamy wizyte" + w + t + ". Do zobaczenia!",
                              "title": "Wizyta potwierdzona{% if when %}: {{ when }}{% endif %}",
                              "body": "Potwierdzamy Twoją wizytę" + w + t + p + ". Do zobaczenia!"},
                "cancelled": {"sms": "Twoja wizyta" + w + t + " zostala odwolana. Zapraszamy ponownie!",
                              "title": "Twoja wizyta została odwołana",
                              "body": "Twoja wizyta" + w + t + " została odwołana. Zapraszamy ponownie – możesz umówić się w dowolnym dogodnym terminie."},
                "rejected": {"sms": "niestety nie mozemy przyjac rezerwacji" + t + ". Prosimy wybrac inny termin.",
                             "title": "Niestety nie możemy przyjąć rezerwacji",
                             "body": "Przepraszamy, ale nie możemy przyjąć Twojej rezerwacji" + w + t + ". Prosimy o wybranie innego terminu."},
                "completed": {"sms": "dziekujemy za wizyte! Do zobaczenia wkrotce.",
                              "title": "Dziękujemy za wizytę",
                              "body": "Dziękujemy za wizytę" + p + "! Mamy nadzieję, że wszystko się podobało, i czekamy na kolejne spotkanie."},
                "no_show": {"sms": "brakowalo nam Ciebie dzisiaj. Czy chcesz umowic nowy termin?",
                            "title": "Brakowało nam Ciebie",
                            "body": "Nie udało nam się spotkać na umówionej wizycie" + t + ". Czy chcesz umówić nowy termin? Chętnie Cię przyjmiemy."},
                "other": {"sms": "status Twojej rezerwacji" + t + ": {{ status }}.",
                          "title": "Twoja rezerwacja: {{ status }}",
                          "body": "Aktualny status Twojej rezerwacji" + w + t + ": {{ status }}."},
            },
            "pre-visit": {
                "staff": {"sms": "Nadchodzaca wizyta: {{ client.name if client else subject.id }}" + w + t + ".",
                          "title": "Nadchodząca wizyta: {{ client.name if client else subject.id }}{% if when %}, {{ when }}{% endif %}",
                          "body": "{{ client.name if client else subject.id }}" + w + t + p + "."},
                "order": {"sms": "przypominamy o zamowieniu {{ subject.id }}" + t + p + ".",
                          "title": "Przypomnienie: zamówienie {{ subject.id }}",
                          "body": "Przypominamy o Twoim zamówieniu {{ subject.id }}" + t + p + "."},
                "client": {"sms": "przypominamy o wizycie" + w + t + ". Do zobaczenia!",
                           "title": "Przypomnienie o wizycie{% if when %}: {{ when }}{% endif %}",
                           "body": "Przypominamy o Twojej wizycie" + w + t + p + ". Jeśli plany się zmieniły, daj nam znać wcześniej."},
            },
            "post-visit": {
                "client": {"sms": "dziekujemy za wizyte! Jak nam poszlo? Bedzie nam milo, jesli zostawisz opinie.{% if data.review_url is defined %} {{ data.review_url }}{% endif %}",
                           "title": "Jak minęła wizyta?",
                           "body": "Dziękujemy za wizytę" + p + "! Chętnie dowiemy się, jak było – Twoja opinia pomaga nam się rozwijać.{% if data.review_url is defined %} Opinię możesz zostawić tutaj: {{ data.review_url }}{% endif %}"},
            },
            "repeat-visit": {
                "client": {"sms": "czas na kolejna wizyte" + w + "! Zarezerwuj dogodny termin.",
                           "title": "Czas na kolejną wizytę",
                           "body": "Minęło już trochę czasu od Twojej ostatniej wizyty{% if subject.start %} ({{ subject.start | date }}){% endif %}, więc to dobry moment, by umówić się ponownie" + w + ". Czekamy na Ciebie" + p + "!"},
            },
            "_": {"hello": "Dzien dobry{% if who %} {{ who }}{% endif %}, ", "hello_mail": "Dzień dobry{% if who %} {{ who }}{% endif %},",
                  "bye": "Do zobaczenia!", "when": "Termin", "what": "Usługi", "where": "Miejsce",
                  "confirm": "Potwierdź wizytę", "cancel": "Odwołaj wizytę"},
        }
    if locale == "uk":
        return {
            "status-change": {
                "staff": {"sms": "{% if verb == 'rescheduled' %}Перенесено{% elif verb == 'created' %}Новий запис{% else %}Статус {{ status }}{% endif %}: {{ client.name if client else subject.id }}" + w + t + "{% if verb == 'created' and status %} ({{ status }}){% endif %}",
                          "title": "{% if verb == 'rescheduled' %}Запис перенесено{% elif verb == 'created' %}Новий запис{% else %}Зміна статусу ({{ status }}){% endif %}: {{ client.name if client else subject.id }}",
                          "body": "{{ client.name if client else subject.id }}" + w + t + p + "{% if before %} (раніше {{ before }}){% endif %}. Статус: {{ status }}."},
                "order_created": {"sms": "ми отримали ваше замовлення {{ subject.id }}. Повідомимо, коли воно буде готове.",
                                  "title": "Ми отримали ваше замовлення {{ subject.id }}",
                                  "body": "Дякуємо! Ми отримали ваше замовлення {{ subject.id }}" + w + " і повідомимо, щойно воно буде готове."},
                "order_ready": {"sms": "ваше замовлення {{ subject.id }} готове до видачі.",
                                "title": "Замовлення {{ subject.id }} готове",
                                "body": "Гарна новина: ваше замовлення {{ subject.id }} готове до видачі" + p + "."},
                "order_working": {"sms": "ми працюємо над вашим замовленням {{ subject.id }}.",
                                  "title": "Замовлення {{ subject.id }} у роботі",
                                  "body": "Ми розпочали роботу над вашим замовленням {{ subject.id }} і повідомимо, щойно воно буде готове."},
                "order_done": {"sms": "ваше замовлення {{ subject.id }} виконано. Дякуємо!",
                               "title": "Замовлення {{ subject.id }} виконано",
                               "body": "Ваше замовлення {{ subject.id }} виконано. Дякуємо, що обрали нас!"},
                "order_cancelled": {"sms": "ваше замовлення {{ subject.id }} скасовано.",
                                    "title": "Замовлення {{ subject.id }} скасовано",
                                    "body": "Ваше замовлення {{ subject.id }} скасовано. Якщо маєте запитання, просто дайте відповідь на цей лист."},
                "order_other": {"sms": "статус замовлення {{ subject.id }}: {{ status }}.",
                                "title": "Замовлення {{ subject.id }}: {{ status }}",
                                "body": "Поточний статус вашого замовлення {{ subject.id }}: {{ status }}."},
                "lead_created": {"sms": "дякуємо за звернення! Незабаром ми з вами зв'яжемося.",
                                 "title": "Дякуємо за звернення",
                                 "body": "Дякуємо, що звернулися до нас! Ми отримали ваш запит і незабаром з вами зв'яжемося."},
                "lead_other": {"sms": "оновлення щодо вашого запиту: {{ status }}.",
                               "title": "Ваш запит: {{ status }}",
                               "body": "Поточний статус вашого запиту: {{ status }}."},
                "rescheduled": {"sms": "ваш запис" + w + " перенесено{% if when %} на {{ when }}{% endif %}.",
                                "title": "Ваш запис перенесено{% if when %} на {{ when }}{% endif %}",
                                "body": "Ваш запис" + w + " перенесено{% if before %} з {{ before }}{% endif %}{% if when %} на {{ when }}{% endif %}" + p + "."},
                "requested": {"sms": "ми отримали ваш запит на запис" + w + t + ". Незабаром підтвердимо.",
                              "title": "Ми отримали ваш запит на запис",
                              "body": "Дякуємо! Ми отримали ваш запит на запис" + w + t + " і незабаром його підтвердимо."},
                "confirmed": {"sms": "ваш запис" + w + t + " підтверджено.",
                              "title": "Запис підтверджено{% if when %}: {{ when }}{% endif %}",
                              "body": "Ваш запис" + w + t + p + " підтверджено. Будемо раді вас бачити!"},
                "cancelled": {"sms": "ваш запис" + w + t + " скасовано. Чекаємо іншим разом!",
                              "title": "Ваш запис скасовано",
                              "body": "Ваш запис" + w + t + " скасовано. Будемо раді бачити вас іншим разом — записуйтеся, коли вам зручно."},
                "rejected": {"sms": "на жаль, ми не можемо прийняти ваш запис" + t + ". Оберіть, будь ласка, інший час.",
                             "title": "На жаль, ми не можемо прийняти ваш запис",
                             "body": "Перепрошуємо, але ми не можемо прийняти ваш запис" + w + t + ". Оберіть, будь ласка, інший зручний час."},
                "completed": {"sms": "дякуємо за візит! Чекаємо на вас знову.",
                              "title": "Дякуємо за візит",
                              "body": "Дякуємо за візит" + p + "! Сподіваємося, вам усе сподобалося, і будемо раді бачити вас знову."},
                "no_show": {"sms": "ми чекали на вас сьогодні. Бажаєте записатися на інший час?",
                            "title": "Ми на вас чекали",
                            "body": "Ми чекали на вас на запланований візит" + t + ". Бажаєте записатися на інший час? Будемо раді вас бачити."},
                "other": {"sms": "статус вашого запису" + t + ": {{ status }}.",
                          "title": "Ваш запис: {{ status }}",
                          "body": "Поточний статус вашого запису" + w + t + ": {{ status }}."},
            },
            "pre-visit": {
                "staff": {"sms": "Найближчий запис: {{ client.name if client else subject.id }}" + w + t + ".",
                          "title": "Найближчий запис: {{ client.name if client else subject.id }}{% if when %}, {{ when }}{% endif %}",
                          "body": "{{ client.name if client else subject.id }}" + w + t + p + "."},
                "order": {"sms": "нагадуємо про замовлення {{ subject.id }}" + t + ".",
                          "title": "Нагадування: замовлення {{ subject.id }}",
                          "body": "Нагадуємо про ваше замовлення {{ subject.id }}" + t + p + "."},
                "client": {"sms": "нагадуємо про візит" + w + t + ". Чекаємо!",
                           "title": "Нагадування про візит{% if when %}: {{ when }}{% endif %}",
                           "body": "Нагадуємо про ваш візит" + w + t + p + ". Якщо ваші плани змінилися, будь ласка, повідомте нас заздалегідь."},
            },
            "post-visit": {
                "client": {"sms": "дякуємо за візит! Будемо вдячні за відгук.{% if data.review_url is defined %} {{ data.review_url }}{% endif %}",
                           "title": "Як пройшов ваш візит?",
                           "body": "Дякуємо, що завітали до нас" + p + "! Нам важливо знати, як усе пройшло: ваш відгук допомагає нам ставати кращими.{% if data.review_url is defined %} Залишити відгук можна тут: {{ data.review_url }}{% endif %}"},
            },
            "repeat-visit": {
                "client": {"sms": "час для наступного візиту" + w + "! Запишіться.",
                           "title": "Час для наступного візиту",
                           "body": "Від вашого останнього візиту{% if subject.start %} ({{ subject.start | date }}){% endif %} минув деякий час, тож саме час записатися знову" + w + ". Будемо раді вас бачити" + p + "!"},
            },
            "_": {"hello": "{% if who %}{{ who }}, {% else %}Вітаємо! {% endif %}", "hello_mail": "Вітаємо{% if who %}, {{ who }}{% endif %}!",
                  "bye": "До зустрічі!", "when": "Коли", "what": "Послуги", "where": "Де",
                  "confirm": "Підтвердити візит", "cancel": "Скасувати візит"},
        }
    if locale == "ru":
        return {
            "status-change": {
                "staff": {"sms": "{% if verb == 'rescheduled' %}Перенос{% elif verb == 'created' %}Новая запись{% else %}Статус {{ status }}{% endif %}: {{ client.name if client else subject.id }}" + w + t + "{% if verb == 'created' and status %} ({{ status }}){% endif %}",
                          "title": "{% if verb == 'rescheduled' %}Запись перенесена{% elif verb == 'created' %}Новая запись{% else %}Смена статуса ({{ status }}){% endif %}: {{ client.name if client else subject.id }}",
                          "body": "{{ client.name if client else subject.id }}" + w + t + p + "{% if before %} (ранее {{ before }}){% endif %}. Статус: {{ status }}."},
                "order_created": {"sms": "мы получили ваш заказ {{ subject.id }}. Сообщим, когда он будет готов.",
                                  "title": "Мы получили ваш заказ {{ subject.id }}",
                                  "body": "Спасибо! Мы получили ваш заказ {{ subject.id }}" + w + " и сообщим, как только он будет готов."},
                "order_ready": {"sms": "ваш заказ {{ subject.id }} готов к выдаче.",
                                "title": "Заказ {{ subject.id }} готов",
                                "body": "Хорошие новости: ваш заказ {{ subject.id }} готов к выдаче" + p + "."},
                "order_working": {"sms": "мы работаем над вашим заказом {{ subject.id }}.",
                                  "title": "Заказ {{ subject.id }} в работе",
                                  "body": "Мы приступили к работе над вашим заказом {{ subject.id }} и сообщим, как только он будет готов."},
                "order_done": {"sms": "ваш заказ {{ subject.id }} выполнен. Спасибо!",
                               "title": "Заказ {{ subject.id }} выполнен",
                               "body": "Ваш заказ {{ subject.id }} выполнен. Спасибо, что выбрали нас!"},
                "order_cancelled": {"sms": "ваш заказ {{ subject.id }} отменён.",
                                    "title": "Заказ {{ subject.id }} отменён",
                                    "body": "Ваш заказ {{ subject.id }} отменён. Если у вас есть вопросы, просто ответьте на это письмо."},
                "order_other": {"sms": "статус заказа {{ subject.id }}: {{ status }}.",
                                "title": "Заказ {{ subject.id }}: {{ status }}",
                                "body": "Текущий статус вашего заказа {{ subject.id }}: {{ status }}."},
                "lead_created": {"sms": "спасибо за обращение! Мы скоро с вами свяжемся.",
                                 "title": "Спасибо за обращение",
                                 "body": "Спасибо, что обратились к нам! Мы получили ваш запрос и скоро с вами свяжемся."},
                "lead_other": {"sms": "новости по вашему запросу: {{ status }}.",
                               "title": "Ваш запрос: {{ status }}",
                               "body": "Текущий статус вашего запроса: {{ status }}."},
                "rescheduled": {"sms": "ваша запись" + w + " перенесена{% if when %} на {{ when }}{% endif %}.",
                                "title": "Ваша запись перенесена{% if when %} на {{ when }}{% endif %}",
                                "body": "Ваша запись" + w + " перенесена{% if before %} с {{ before }}{% endif %}{% if when %} на {{ when }}{% endif %}" + p + "."},
                "requested": {"sms": "мы получили вашу заявку на запись" + w + t + ". Скоро подтвердим.",
                              "title": "Мы получили вашу заявку на запись",
                              "body": "Спасибо! Мы получили вашу заявку на запись" + w + t + " и скоро её подтвердим."},
                "confirmed": {"sms": "ваша запись" + w + t + " подтверждена.",
                              "title": "Запись подтверждена{% if when %}: {{ when }}{% endif %}",
                              "body": "Ваша запись" + w + t + p + " подтверждена. Будем рады вас видеть!"},
                "cancelled": {"sms": "ваша запись" + w + t + " отменена. Ждём в другой раз!",
                              "title": "Ваша запись отменена",
                              "body": "Ваша запись" + w + t + " отменена. Будем рады видеть вас в другой раз — записывайтесь, когда вам удобно."},
                "rejected": {"sms": "к сожалению, мы не можем принять вашу запись" + t + ". Пожалуйста, выберите другое время.",
                             "title": "К сожалению, мы не можем принять вашу запись",
                             "body": "Приносим извинения, но мы не можем принять вашу запись" + w + t + ". Пожалуйста, выберите другое удобное время."},
                "completed": {"sms": "спасибо за визит! Ждём вас снова.",
                              "title": "Спасибо за визит",
                              "body": "Спасибо за визит" + p + "! Надеемся, вам всё понравилось, и будем рады видеть вас снова."},
                "no_show": {"sms": "мы ждали вас сегодня. Хотите записаться на другое время?",
                            "title": "Мы вас ждали",
                            "body": "Мы ждали вас на запланированный визит" + t + ". Хотите записаться на другое время? Будем рады вас видеть."},
                "other": {"sms": "статус вашей записи" + t + ": {{ status }}.",
                          "title": "Ваша запись: {{ status }}",
                          "body": "Текущий статус вашей записи" + w + t + ": {{ status }}."},
            },
            "pre-visit": {
                "staff": {"sms": "Ближайшая запись: {{ client.name if client else subject.id }}" + w + t + ".",
                          "title": "Ближайшая запись: {{ client.name if client else subject.id }}{% if when %}, {{ when }}{% endif %}",
                          "body": "{{ client.name if client else subject.id }}" + w + t + p + "."},
                "order": {"sms": "напоминаем о заказе {{ subject.id }}" + t + ".",
                          "title": "Напоминание: заказ {{ subject.id }}",
                          "body": "Напоминаем о вашем заказе {{ subject.id }}" + t + p + "."},
                "client": {"sms": "напоминаем о визите" + w + t + ". Ждём!",
                           "title": "Напоминание о визите{% if when %}: {{ when }}{% endif %}",
                           "body": "Напоминаем о вашем визите" + w + t + p + ". Если ваши планы изменились, пожалуйста, сообщите нам заранее."},
            },
            "post-visit": {
                "client": {"sms": "спасибо за визит! Будем благодарны за отзыв.{% if data.review_url is defined %} {{ data.review_url }}{% endif %}",
                           "title": "Как прошёл ваш визит?",
                           "body": "Спасибо, что посетили нас" + p + "! Нам важно знать, как всё прошло: ваш отзыв помогает нам становиться лучше.{% if data.review_url is defined %} Оставить отзыв можно здесь: {{ data.review_url }}{% endif %}"},
            },
            "repeat-visit": {
                "client": {"sms": "пора на следующий визит" + w + "! Запишитесь.",
                           "title": "Пора на следующий визит",
                           "body": "С вашего последнего визита{% if subject.start %} ({{ subject.start | date }}){% endif %} прошло уже немало времени — самое время записаться снова" + w + ". Будем рады вас видеть" + p + "!"},
            },
            "_": {"hello": "{% if who %}{{ who }}, {% else %}Здравствуйте! {% endif %}", "hello_mail": "Здравствуйте{% if who %}, {{ who }}{% endif %}!",
                  "bye": "До встречи!", "when": "Когда", "what": "Услуги", "where": "Где",
                  "confirm": "Подтвердить визит", "cancel": "Отменить визит"},
        }
    return {   # it
        "status-change": {
            "staff": {"sms": "{% if verb == 'rescheduled' %}Spostato{% elif verb == 'created' %}Nuova prenotazione{% else %}Stato {{ status }}{% endif %}: {{ client.name if client else subject.id }}" + w + t + "{% if verb == 'created' and status %} ({{ status }}){% endif %}",
                      "title": "{% if verb == 'rescheduled' %}Appuntamento spostato{% elif verb == 'created' %}Nuova prenotazione{% else %}Cambio di stato ({{ status }}){% endif %}: {{ client.name if client else subject.id }}",
                      "body": "{{ client.name if client else subject.id }}" + w + t + p + "{% if before %} (prima {{ before }}){% endif %}. Stato: {{ status }}."},
            "order_created": {"sms": "abbiamo ricevuto il Suo ordine {{ subject.id }}. La avviseremo quando sarà pronto.",
                              "title": "Abbiamo ricevuto il Suo ordine {{ subject.id }}",
                              "body": "Grazie! Abbiamo ricevuto il Suo ordine {{ subject.id }}" + w + " e La avviseremo non appena sarà pronto."},
            "order_ready": {"sms": "il Suo ordine {{ subject.id }} è pronto per il ritiro" + p + ".",
                            "title": "Il Suo ordine {{ subject.id }} è pronto",
                            "body": "Buone notizie: il Suo ordine {{ subject.id }} è pronto per il ritiro" + p + "."},
            "order_working": {"sms": "stiamo lavorando al Suo ordine {{ subject.id }}. La avviseremo quando sarà pronto.",
                              "title": "Il Suo ordine {{ subject.id }} è in lavorazione",
                              "body": "Abbiamo iniziato a lavorare al Suo ordine {{ subject.id }} e La avviseremo non appena sarà pronto."},
            "order_done": {"sms": "il Suo ordine {{ subject.id }} è stato completato. Grazie!",
                           "title": "Il Suo ordine {{ subject.id }} è stato completato",
                           "body": "Il Suo ordine {{ subject.id }} è stato completato. Grazie per averci scelto!"},
            "order_cancelled": {"sms": "il Suo ordine {{ subject.id }} è stato annullato. Per domande, risponda pure a questo messaggio.",
                                "title": "Il Suo ordine {{ subject.id }} è stato annullato",
                                "body": "Il Suo ordine {{ subject.id }} è stato annullato. Per qualsiasi domanda, risponda pure a questo messaggio."},
            "order_other": {"sms": "stato del Suo ordine {{ subject.id }}: {{ status }}.",
                            "title": "Ordine {{ subject.id }}: {{ status }}",
                            "body": "Lo stato attuale del Suo ordine {{ subject.id }} è: {{ status }}."},
            "lead_created": {"sms": "grazie per la Sua richiesta! La ricontatteremo al più presto.",
                             "title": "Grazie per la Sua richiesta",
                             "body": "Grazie per averci contattato! Abbiamo ricevuto la Sua richiesta e La ricontatteremo al più presto."},
            "lead_other": {"sms": "aggiornamento sulla Sua richiesta: {{ status }}.",
                           "title": "La Sua richiesta: {{ status }}",
                           "body": "Lo stato attuale della Sua richiesta è: {{ status }}."},
            "rescheduled": {"sms": "il Suo appuntamento" + w + " è stato spostato{% if when %} al {{ when }}{% endif %}. A presto!",
                            "title": "Il Suo appuntamento è stato spostato{% if when %} al {{ when }}{% endif %}",
                            "body": "Il Suo appuntamento" + w + " è stato spostato{% if before %} dal {{ before }}{% endif %}{% if when %} al {{ when }}{% endif %}" + p + "."},
            "requested": {"sms": "abbiamo ricevuto la Sua richiesta di prenotazione" + w + t + ". La confermeremo a breve.",
                          "title": "Abbiamo ricevuto la Sua richiesta di prenotazione",
                          "body": "Grazie! Abbiamo ricevuto la Sua richiesta di prenotazione" + w + t + " e la confermeremo a breve."},
            "confirmed": {"sms": "il Suo appuntamento" + w + t + " è confermato. A presto!",
                          "title": "Appuntamento confermato{% if when %}: {{ when }}{% endif %}",
                          "body": "Il Suo appuntamento" + w + t + p + " è confermato. La aspettiamo!"},
            "cancelled": {"sms": "il Suo appuntamento" + w + t + " è stato annullato. Speriamo di rivederLa presto.",
                          "title": "Il Suo appuntamento è stato annullato",
                          "body": "Il Suo appuntamento" + w + t + " è stato annullato. Speriamo di rivederLa presto: può prenotare di nuovo quando preferisce."},
            "rejected": {"sms": "purtroppo non possiamo accettare la prenotazione" + t + ". La preghiamo di scegliere un altro orario.",
                         "title": "Purtroppo non possiamo accettare la prenotazione",
                         "body": "Ci dispiace, ma non possiamo accettare la Sua prenotazione" + w + t + ". La preghiamo di scegliere un altro orario."},
            "completed": {"sms": "grazie per la Sua visita! Speriamo di rivederLa presto.",
                          "title": "Grazie per la Sua visita",
                          "body": "Grazie per la Sua visita" + p + "! Speriamo che sia stata di Suo gradimento e di rivederLa presto."},
            "no_show": {"sms": "oggi non L'abbiamo vista. Desidera fissare un nuovo appuntamento?",
                        "title": "L'aspettavamo",
                        "body": "L'aspettavamo per l'appuntamento" + t + ". Desidera fissarne uno nuovo? Saremo lieti di accoglierLa."},
            "other": {"sms": "stato della Sua prenotazione" + t + ": {{ status }}.",
                      "title": "La Sua prenotazione: {{ status }}",
                      "body": "Lo stato attuale della Sua prenotazione" + w + t + " è: {{ status }}."},
        },
        "pre-visit": {
            "staff": {"sms": "Prossimo appuntamento: {{ client.name if client else subject.id }}" + w + t + ".",
                      "title": "Prossimo appuntamento: {{ client.name if client else subject.id }}{% if when %}, {{ when }}{% endif %}",
                      "body": "{{ client.name if client else subject.id }}" + w + t + p + "."},
            "order": {"sms": "Le ricordiamo l'ordine {{ subject.id }}" + t + p + ".",
                      "title": "Promemoria: ordine {{ subject.id }}",
                      "body": "Le ricordiamo il Suo ordine {{ subject.id }}" + t + p + "."},
            "client": {"sms": "Le ricordiamo l'appuntamento" + w + t + p + ". A presto!",
                       "title": "Promemoria appuntamento{% if when %}: {{ when }}{% endif %}",
                       "body": "Le ricordiamo il Suo appuntamento" + w + t + p + ". Se i Suoi programmi sono cambiati, ce lo comunichi per tempo."},
        },
        "post-visit": {
            "client": {"sms": "grazie per la Sua visita! Ci farebbe piacere ricevere la Sua opinione.{% if data.review_url is defined %} {{ data.review_url }}{% endif %}",
                       "title": "Com'è andata la Sua visita?",
                       "body": "Grazie per averci fatto visita" + p + "! Ci piacerebbe sapere com'è andata: la Sua opinione ci aiuta a migliorare.{% if data.review_url is defined %} Può lasciare una recensione qui: {{ data.review_url }}{% endif %}"},
        },
        "repeat-visit": {
            "client": {"sms": "è il momento del prossimo appuntamento" + w + "! Prenoti quando preferisce" + p + ".",
                       "title": "È il momento del prossimo appuntamento",
                       "body": "È passato un po' di tempo dalla Sua ultima visita{% if subject.start %} ({{ subject.start | date }}){% endif %}: è il momento giusto per prenotare di nuovo" + w + ". Saremo lieti di rivederLa" + p + "!"},
        },
        "_": {"hello": "Buongiorno{% if who %} {{ who }}{% endif %}, ", "hello_mail": "Buongiorno{% if who %} {{ who }}{% endif %},",
              "bye": "A presto!", "when": "Quando", "what": "Servizi", "where": "Dove",
              "confirm": "Confermi l'appuntamento", "cancel": "Annulli l'appuntamento"},
    }


# ---------------------------------------------------------------- assembly


def _branches(situations: Mapping[str, Mapping[str, str]], key: str, order: tuple[tuple[str, str | None], ...]) -> str:
    if len(order) == 1:
        return situations[order[0][0]][key]
    out = ""
    for i, (name, condition) in enumerate(order):
        text = situations[name][key]
        if condition is None:
            out += "{% else %}" + text
        else:
            out += ("{% if " if i == 0 else "{% elif ") + condition + " %}" + text
    return out + "{% endif %}"


def _capitalized(text: str) -> str:
    """A phrase that opens a sentence: "your visit" -> "Your visit" (Jinja markup left alone)."""
    return text[:1].upper() + text[1:] if text and text[0].isalpha() else text


def _order(trigger: str) -> tuple[tuple[str, str | None], ...]:
    if trigger == "status-change":
        return STATUS_SITUATIONS
    if trigger == "pre-visit":
        return (("staff", 'rule.recipient == "staff"'), ("order", 'subject.kind == "order"'), ("client", None))
    return (("client", None),)


def _details(words: Mapping[str, str], html: bool) -> str:
    rows = [("when", "{{ when }}", "when"), ("what", "{{ what }}", "what"),
            ("where", "{{ where }}{% if location.address %}, {{ location.address }}{% endif %}", "where")]
    if html:
        items = "".join("{% if " + cond + " %}<li>" + words[label] + ": <strong>" + value + "</strong></li>{% endif %}"
                        for label, value, cond in rows)
        return "{% if when or what or where %}<ul>" + items + "</ul>{% endif %}"
    return "".join("{% if " + cond + " %}" + NL + words[label] + ": " + value + "{% endif %}" for label, value, cond in rows)


def _links(words: Mapping[str, str], html: bool) -> str:
    if html:
        return ('{% set confirm = confirm_url() %}{% set cancel = cancel_url() %}{% if confirm or cancel %}<p>'
                '{% if confirm %}<a href="{{ confirm }}">' + words["confirm"] + '</a>{% endif %}'
                '{% if confirm and cancel %} · {% endif %}'
                '{% if cancel %}<a href="{{ cancel }}">' + words["cancel"] + '</a>{% endif %}</p>{% endif %}')
    return ('{% set confirm = confirm_url() %}{% set cancel = cancel_url() %}'
            '{% if confirm %}' + NL + NL + words["confirm"] + ': {{ confirm }}{% endif %}'
            '{% if cancel %}{% if not confirm %}' + NL + '{% endif %}' + NL + words["cancel"] + ': {{ cancel }}{% endif %}')


def _texts(trigger: str, locale: str) -> TemplateTexts:
    phrases = _phrases(locale)
    situations, words = phrases[trigger], phrases["_"]
    order = _order(trigger)
    client_only = "{% if rule.recipient != 'staff' %}"
    with_details = trigger in ("status-change", "pre-visit")
    hello = client_only + words["hello"] + "{% endif %}"
    # an SMS opens with the greeting, so its phrase goes on in lower case; push and e-mail bodies open with it
    sms = PRELUDE + SMS_PRELUDE.get(locale, "") + hello + _branches(situations, "sms", order)
    title = PRELUDE + _branches(situations, "title", order)
    body = _branches(situations, "body", order)
    opening = {k: {**v, "sms": v["sms"] if k == "staff" else _capitalized(v["sms"])} for k, v in situations.items()}
    push_body = PRELUDE + _branches(opening, "sms", order)
    text = (PRELUDE + client_only + words["hello_mail"] + NL + NL + "{% endif %}" + body
            + (NL + _details(words, html=False) if with_details else "")
            + (client_only + _links(words, html=False) + "{% endif %}" if with_details else "")
            + client_only + NL + NL + words["bye"] + "{% endif %}")
    html = (PRELUDE + client_only + "<p>" + words["hello_mail"] + "</p>{% endif %}<p>" + body + "</p>"
            + (_details(words, html=True) if with_details else "")
            + (client_only + _links(words, html=True) + "{% endif %}" if with_details else "")
            + client_only + "<p>" + words["bye"] + "</p>{% endif %}")
    return TemplateTexts(name=trigger, locale=locale, channels={
        "sms": {"text": sms},
        "email": {"subject": title, "text": text, "html": html},
        "push": {"title": title, "body": push_body},
    })


def default_texts(name: str) -> tuple[TemplateTexts, ...]:
    """The built-in texts of one trigger, one per locale (empty for an unknown trigger)."""
    if name not in ("status-change", "pre-visit", "post-visit", "repeat-visit"):
        return ()
    return tuple(_texts(name, locale) for locale in LOCALES)
