"""Demo data for a fresh stack: a small hand-written taxonomy, seeded workers and tasks, and a
loader that posts them through the gateway. Generation is pure; only `load_demo` does I/O."""

import asyncio
import random
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

Body = dict[str, Any]
# A fixed bearer token, or a function minting one for (sub, roles, org_unit).
TokenSource = str | Callable[[str, list[str], str | None], str]

# (slug, label, skill_type, broader slugs, alternative labels, description); parents come first
# because the API refuses a broader skill it does not know yet.
# fmt: off
_TAXONOMY: list[tuple[str, str, str, list[str], list[str], str]] = [
    ("digital", "Digital and software skills", "skill/competence", [],
     ["IT skills"],
     "Building, running and using software and data."),
    ("business", "Business and administration", "skill/competence", [],
     ["Business skills"],
     "Planning, finance, commerce and running an organisation."),
    ("communication", "Communication and collaboration", "skill/competence", [],
     ["Interpersonal skills"],
     "Working with, informing and developing other people."),
    ("healthcare", "Health care", "skill/competence", [],
     ["Clinical skills"],
     "Caring for patients in hospitals, clinics and the community."),
    ("trades", "Technical trades and logistics", "skill/competence", [],
     ["Operations skills"],
     "Making, moving, inspecting and maintaining physical goods and equipment."),
    ("programming", "Computer programming", "skill/competence", ["digital"],
     ["Software development", "Coding"],
     "Writing, testing and maintaining program code."),
    ("python", "Python", "knowledge", ["programming"],
     ["Python programming", "Python 3"],
     "The Python programming language and its ecosystem."),
    ("java", "Java", "knowledge", ["programming"],
     ["Java programming", "JVM development"],
     "The Java programming language and the JVM platform."),
    ("javascript", "JavaScript", "knowledge", ["programming"],
     ["TypeScript", "JS"],
     "JavaScript and TypeScript for web front ends and Node.js services."),
    ("sql", "SQL", "knowledge", ["programming", "digital"],
     ["Structured Query Language"],
     "Querying and modelling relational databases."),
    ("software-testing", "Software testing", "skill/competence", ["programming"],
     ["Quality assurance", "Test automation"],
     "Designing and automating software tests."),
    ("data-analysis", "Data analysis", "skill/competence", ["digital"],
     ["Data analytics", "Analysing data"],
     "Cleaning, exploring and interpreting data."),
    ("machine-learning", "Machine learning", "knowledge", ["data-analysis", "programming"],
     ["ML", "Predictive modelling"],
     "Training and evaluating statistical learning models."),
    ("data-visualisation", "Data visualisation", "skill/competence", ["data-analysis"],
     ["Dashboards", "Data visualization"],
     "Presenting data in charts and dashboards."),
    ("excel", "Microsoft Excel", "skill/competence", ["digital"],
     ["Excel", "Spreadsheets"],
     "Building models and reports in spreadsheets."),
    ("cloud-computing", "Cloud computing", "knowledge", ["digital"],
     ["AWS", "Azure", "Google Cloud"],
     "Designing and running systems on cloud platforms."),
    ("cybersecurity", "Cybersecurity", "knowledge", ["digital"],
     ["Information security", "IT security"],
     "Protecting systems and data from attack."),
    ("ux-design", "UX design", "skill/competence", ["digital"],
     ["User experience design", "UI design"],
     "Researching users and designing interfaces."),
    ("project-management", "Project management", "skill/competence", ["business"],
     ["Managing projects", "PMP"],
     "Planning, running and closing projects."),
    ("agile-delivery", "Agile delivery", "skill/competence", ["project-management"],
     ["Scrum", "Kanban"],
     "Running iterative delivery with Scrum or Kanban."),
    ("stakeholder-management", "Stakeholder management", "skill/competence", ["business"],
     ["Managing stakeholders"],
     "Aligning and informing the people a piece of work affects."),
    ("accounting", "Accounting", "knowledge", ["business"],
     ["Bookkeeping", "Financial accounting"],
     "Recording and reporting financial transactions."),
    ("financial-analysis", "Financial analysis", "skill/competence", ["business", "excel"],
     ["Financial modelling", "FP&A"],
     "Analysing performance, forecasts and investments."),
    ("budgeting", "Budgeting", "skill/competence", ["financial-analysis"],
     ["Budget planning"],
     "Preparing and tracking budgets."),
    ("procurement", "Procurement", "skill/competence", ["business"],
     ["Purchasing", "Sourcing"],
     "Selecting suppliers and buying goods and services."),
    ("negotiation", "Negotiation", "skill/competence", ["business", "communication"],
     ["Negotiating"],
     "Reaching agreements that hold for both sides."),
    ("sales-prospecting", "Sales prospecting", "skill/competence", ["business"],
     ["Lead generation", "Business development"],
     "Finding and qualifying new customers."),
    ("crm-software", "CRM software", "knowledge", ["digital", "business"],
     ["Salesforce", "HubSpot"],
     "Keeping customer records and pipelines in a CRM."),
    ("public-speaking", "Public speaking", "skill/competence", ["communication"],
     ["Presenting", "Presentation skills"],
     "Speaking clearly and persuasively to groups."),
    ("technical-writing", "Technical writing", "skill/competence", ["communication"],
     ["Documentation", "Writing manuals"],
     "Writing clear documentation and procedures."),
    ("customer-service", "Customer service", "skill/competence", ["communication"],
     ["Customer support", "Client service"],
     "Helping customers and resolving their issues."),
    ("coaching", "Coaching", "skill/competence", ["communication"],
     ["Mentoring"],
     "Helping others grow through guided practice and feedback."),
    ("people-management", "People management", "skill/competence", ["communication"],
     ["Line management", "Team leadership"],
     "Leading a team and developing its members."),
    ("training-delivery", "Training delivery", "skill/competence", ["communication"],
     ["Teaching", "Facilitation"],
     "Preparing and running training sessions."),
    ("spanish", "Spanish", "knowledge", ["communication"],
     ["Spanish language", "Español"],
     "Speaking and writing Spanish at work."),
    ("nursing", "Nursing", "skill/competence", ["healthcare"],
     ["Registered nursing", "Nursing care"],
     "Assessing, planning and delivering nursing care."),
    ("patient-care", "Patient care", "skill/competence", ["healthcare"],
     ["Caring for patients", "Bedside care"],
     "Looking after patients' comfort and needs."),
    ("medication-administration", "Medication administration", "skill/competence", ["nursing"],
     ["Administering medicines"],
     "Preparing and giving medicines safely."),
    ("infection-control", "Infection prevention and control", "knowledge", ["healthcare"],
     ["Infection control", "IPC"],
     "Preventing the spread of infection in care settings."),
    ("first-aid", "First aid", "skill/competence", ["healthcare"],
     ["Emergency first aid", "CPR"],
     "Giving immediate care after injury or illness."),
    ("clinical-documentation", "Clinical documentation", "skill/competence",
     ["healthcare", "technical-writing"],
     ["Medical records", "Care notes"],
     "Keeping accurate, timely patient records."),
    ("welding", "Welding", "skill/competence", ["trades"],
     ["MIG welding", "TIG welding"],
     "Joining metal parts by welding."),
    ("forklift-operation", "Forklift operation", "skill/competence", ["trades"],
     ["Forklift driving", "Operating a forklift truck"],
     "Moving loads safely with a forklift."),
    ("warehouse-operations", "Warehouse operations", "skill/competence", ["trades"],
     ["Warehousing", "Picking and packing"],
     "Receiving, storing and dispatching goods."),
    ("inventory-management", "Inventory management", "skill/competence", ["warehouse-operations"],
     ["Stock control"],
     "Keeping stock levels accurate and right."),
    ("health-and-safety", "Health and safety", "knowledge", ["trades"],
     ["Occupational safety", "HSE"],
     "Identifying hazards and keeping workplaces safe."),
    ("quality-inspection", "Quality inspection", "skill/competence", ["trades"],
     ["Quality control", "QC"],
     "Checking products and processes against standards."),
    ("equipment-maintenance", "Equipment maintenance", "skill/competence", ["trades"],
     ["Preventive maintenance"],
     "Servicing and repairing machines and tools."),
    ("lean", "Lean process improvement", "skill/competence", ["business", "trades"],
     ["Lean", "Six Sigma", "Continuous improvement"],
     "Removing waste from processes."),
    ("recruiting", "Recruiting", "skill/competence", ["business", "communication"],
     ["Talent acquisition", "Interviewing"],
     "Finding, assessing and hiring people."),
]
# fmt: on


def _sid(slug: str) -> str:
    return f"taskforce:{slug}"


def demo_skills() -> list[Body]:
    """The taxonomy as `POST /v1/skills` bodies, each broader skill before its narrower ones."""
    return [
        {
            "id": _sid(slug),
            "label": label,
            "alt_labels": alt,
            "skill_type": skill_type,
            "description": description,
            "broader": [_sid(b) for b in broader],
            "related": [],
        }
        for slug, label, skill_type, broader, alt, description in _TAXONOMY
    ]


@dataclass(frozen=True)
class OrgUnit:
    """Who works in a unit: the skills most of them have, those some of them have, and what
    they tend to want to learn. Levels of core skills run higher than of adjacent ones."""

    name: str
    share: int
    core: list[str]
    adjacent: list[str]
    growth: list[str]
    remote_share: float
    # (kind, title, skill slugs in order of importance; the first is always a must-have)
    templates: list[tuple[str, str, list[str]]] = field(default_factory=list)


# fmt: off
ORG_UNITS: list[OrgUnit] = [
    OrgUnit(
        "Engineering", 26, remote_share=0.8,
        core=["python", "java", "javascript", "sql", "cloud-computing", "software-testing"],
        adjacent=["cybersecurity", "agile-delivery", "technical-writing", "ux-design",
                  "data-analysis", "coaching"],
        growth=["machine-learning", "cloud-computing", "people-management", "public-speaking"],
        templates=[
            ("task", "Migrate the {system} service to the cloud",
             ["cloud-computing", "python", "software-testing"]),
            ("task", "Add automated tests to the {system} API", ["software-testing", "python"]),
            ("project", "Build a self-service {system} portal",
             ["javascript", "ux-design", "java"]),
            ("gig", "Review access controls of the {system} platform",
             ["cybersecurity", "cloud-computing"]),
            ("task", "Write the developer guide for the {system} API",
             ["technical-writing", "java"]),
            ("gig", "Prototype a churn model for {system}", ["machine-learning", "python", "sql"]),
        ]),
    OrgUnit(
        "Finance", 14, remote_share=0.6,
        core=["accounting", "excel", "financial-analysis", "budgeting"],
        adjacent=["sql", "data-visualisation", "procurement", "stakeholder-management",
                  "negotiation"],
        growth=["data-analysis", "python", "project-management"],
        templates=[
            ("task", "Prepare the {quarter} budget review for the {site} office",
             ["budgeting", "excel", "stakeholder-management"]),
            ("task", "Reconcile supplier invoices for the {site} office", ["accounting", "excel"]),
            ("project", "Automate the month-end close report",
             ["financial-analysis", "sql", "data-visualisation"]),
            ("gig", "Benchmark supplier prices for the {site} office",
             ["procurement", "negotiation"]),
        ]),
    OrgUnit(
        "Operations", 20, remote_share=0.05,
        core=["forklift-operation", "warehouse-operations", "inventory-management",
              "health-and-safety", "welding", "equipment-maintenance", "quality-inspection"],
        adjacent=["lean", "excel", "first-aid", "training-delivery", "project-management"],
        growth=["lean", "people-management", "data-analysis", "project-management"],
        templates=[
            ("gig", "Cover forklift shifts at the {site} warehouse during peak season",
             ["forklift-operation", "warehouse-operations", "health-and-safety"]),
            ("task", "Repair the loading dock railings at the {site} site",
             ["welding", "health-and-safety"]),
            ("project", "Run a stock-count improvement at the {site} depot",
             ["inventory-management", "lean", "excel"]),
            ("task", "Inspect incoming batches at the {site} plant",
             ["quality-inspection", "equipment-maintenance"]),
            ("mentorship", "Train new starters on safe handling in {site}",
             ["health-and-safety", "training-delivery"]),
        ]),
    OrgUnit(
        "Clinical", 16, remote_share=0.05,
        core=["nursing", "patient-care", "medication-administration", "infection-control",
              "clinical-documentation"],
        adjacent=["first-aid", "coaching", "training-delivery", "spanish", "excel"],
        growth=["people-management", "data-analysis", "project-management", "coaching"],
        templates=[
            ("gig", "Cover weekend shifts on the {ward} ward",
             ["nursing", "patient-care", "medication-administration"]),
            ("task", "Audit infection control on the {ward} ward",
             ["infection-control", "clinical-documentation"]),
            ("mentorship", "Mentor newly qualified nurses on the {ward} ward",
             ["nursing", "coaching"]),
            ("task", "Run first-aid refreshers for {site} staff",
             ["first-aid", "training-delivery"]),
        ]),
    OrgUnit(
        "Sales", 12, remote_share=0.7,
        core=["sales-prospecting", "crm-software", "negotiation", "customer-service"],
        adjacent=["public-speaking", "stakeholder-management", "spanish", "excel",
                  "data-visualisation"],
        growth=["data-analysis", "people-management", "public-speaking", "project-management"],
        templates=[
            ("task", "Qualify {quarter} leads for the {region} market",
             ["sales-prospecting", "crm-software"]),
            ("gig", "Present our offer at the {region} trade fair",
             ["public-speaking", "negotiation"]),
            ("project", "Clean up the {region} CRM pipeline",
             ["crm-software", "data-analysis", "excel"]),
        ]),
    OrgUnit(
        "Customer Support", 7, remote_share=0.9,
        core=["customer-service", "crm-software", "technical-writing"],
        adjacent=["spanish", "excel", "training-delivery", "software-testing"],
        growth=["ux-design", "data-analysis", "coaching", "python"],
        templates=[
            ("task", "Rewrite the help-centre articles on {system}",
             ["technical-writing", "customer-service"]),
            ("gig", "Answer Spanish-language tickets during the {quarter} peak",
             ["customer-service", "spanish"]),
            ("task", "Test the new {system} release from a customer's view",
             ["software-testing", "customer-service"]),
        ]),
    OrgUnit(
        "People", 5, remote_share=0.6,
        core=["recruiting", "coaching", "training-delivery", "people-management"],
        adjacent=["public-speaking", "excel", "stakeholder-management", "data-analysis"],
        growth=["data-visualisation", "project-management", "negotiation"],
        templates=[
            ("project", "Design the {quarter} graduate recruiting campaign",
             ["recruiting", "public-speaking", "stakeholder-management"]),
            ("mentorship", "Coach first-time managers in {site}",
             ["coaching", "people-management"]),
            ("task", "Build a skills dashboard for the leadership team",
             ["data-visualisation", "excel"]),
        ]),
]
# fmt: on

# fmt: off
FIRST_NAMES = [
    "Aisha", "Ben", "Carmen", "Daniel", "Elif", "Femi", "Grace", "Hiro", "Ines", "Jonas", "Kavya",
    "Liam", "Maria", "Nikhil", "Olga", "Pedro", "Qing", "Rosa", "Samir", "Tara", "Uma", "Victor",
    "Wen", "Xavier", "Yara", "Zoe", "Ahmed", "Beatriz", "Chloe", "Dmitri", "Emma", "Farah",
    "Gabriel", "Hannah", "Ivan", "Julia", "Kwame", "Lucia", "Mateo", "Nora",
]
LAST_NAMES = [
    "Okafor", "Schmidt", "Garcia", "Nguyen", "Patel", "Kowalski", "Murphy", "Rossi", "Silva",
    "Tanaka", "Johansson", "Ahmed", "Dubois", "Kim", "Novak", "Haddad", "Walsh", "Fischer",
    "Costa", "Ibrahim", "Lindqvist", "Mendes", "O'Brien", "Popescu", "Sato", "Rahman", "Moreau",
    "Jensen", "Kaur", "Byrne", "Lopez", "Mensah", "Ivanova", "Yilmaz", "Chen",
]
LOCATIONS = [
    ("London", "Europe/London"), ("Manchester", "Europe/London"), ("Dublin", "Europe/Dublin"),
    ("Berlin", "Europe/Berlin"), ("Madrid", "Europe/Madrid"), ("Lisbon", "Europe/Lisbon"),
    ("New York", "America/New_York"), ("Toronto", "America/Toronto"),
    ("Bangalore", "Asia/Kolkata"), ("Singapore", "Asia/Singapore"),
]
# fmt: on
_FILLERS = {
    "system": ["billing", "payroll", "booking", "inventory", "customer", "reporting"],
    "quarter": ["Q1", "Q2", "Q3", "Q4"],
    "site": ["London", "Manchester", "Dublin", "Berlin", "Madrid", "Toronto"],
    "ward": ["cardiology", "orthopaedic", "maternity", "paediatric", "respiratory"],
    "region": ["Iberian", "Nordic", "Canadian", "Irish", "DACH"],
}
WEEKLY_HOURS = [4, 8, 12, 16]
MANAGERS_PER_UNIT = 2
MIN_WORKERS = MANAGERS_PER_UNIT * len(ORG_UNITS)


@dataclass(frozen=True)
class DemoData:
    """What a demo load posts, in order. Managers are workers too: a worker's `manager_id` and
    a task's `owner_id` are a manager's `external_id`, which is also their token's `sub`."""

    skills: list[Body]
    workers: list[Body]
    tasks: list[Body]


def _weighted_unit(rng: random.Random) -> OrgUnit:
    return rng.choices(ORG_UNITS, weights=[unit.share for unit in ORG_UNITS])[0]


def _worker(
    rng: random.Random,
    number: int,
    unit: OrgUnit,
    line_manager: str | None,
    used_emails: set[str],
) -> Body:
    is_manager = line_manager is None
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    local = f"{first}.{last}".lower().replace("'", "")
    email = f"{local}@example.com"
    suffix = 2
    while email in used_emails:
        email, suffix = f"{local}{suffix}@example.com", suffix + 1
    used_emails.add(email)
    location, timezone = rng.choice(LOCATIONS)

    core_count = rng.randint(1, min(4, len(unit.core)))
    # A manager's people-management skill may be added below, still within six skills.
    total = rng.randint(max(2, core_count), 5 if is_manager else 6)
    chosen = rng.sample(unit.core, core_count)
    others = [s for s in unit.adjacent if s not in chosen]
    chosen += rng.sample(others, min(total - len(chosen), len(others)))
    if is_manager and "people-management" not in chosen:
        chosen.append("people-management")
    skills = []
    for slug in chosen:
        # People are stronger in their unit's core skills; a manager's leadership is seasoned.
        if slug in unit.core:
            level = rng.choices([1, 2, 3, 4, 5], weights=[1, 3, 4, 3, 1])[0]
        elif slug == "people-management" and is_manager:
            level = rng.randint(3, 5)
        else:
            level = rng.choices([1, 2, 3, 4], weights=[3, 4, 2, 1])[0]
        skills.append({"skill_id": _sid(slug), "level": level, "source": "imported"})

    wanted = [s for s in unit.growth if s not in chosen]
    aspirations = [
        {"skill_id": _sid(s), "target_level": rng.randint(2, 4)}
        for s in rng.sample(wanted, min(rng.randint(0, 2), len(wanted)))
    ]
    return {
        "external_id": f"HR-{number:05d}",
        "name": f"{first} {last}",
        "email": email,
        "org_unit": unit.name,
        "location": location,
        "timezone": timezone,
        "manager_id": line_manager,
        "work_arrangement": "contractor" if rng.random() < 0.08 else "employee",
        "weekly_hours": rng.choice(WEEKLY_HOURS),
        "skills": skills,
        "aspirations": aspirations,
    }


def _task(rng: random.Random, unit: OrgUnit, owner_id: str, today: date) -> Body:
    kind, template, slugs = rng.choice(unit.templates)
    fillers = {key: rng.choice(values) for key, values in _FILLERS.items()}
    title = template.format(**fillers)
    count = rng.randint(1, min(3, len(slugs)))
    required_skills = []
    for index, slug in enumerate(slugs[:count]):
        # The template's first skill is the point of the task, so it is always a must-have.
        must_have = index == 0 or rng.random() < 0.4
        required_skills.append(
            {
                "skill_id": _sid(slug),
                "min_level": rng.choices([1, 2, 3, 4], weights=[2, 4, 3, 1])[0],
                "weight": 1.0 if must_have else rng.choice([0.5, 0.75]),
                "required": must_have,
            }
        )
    next_monday = today + timedelta(days=7 - today.weekday())
    start_week = rng.randint(0, 5)
    weeks = rng.randint(1, 12 - start_week - 1)
    start = next_monday + timedelta(weeks=start_week)
    end = start + timedelta(weeks=weeks, days=-3)
    seats = rng.choices([1, 2, 3], weights=[6, 3, 1])[0]
    learning_seats = rng.randint(0, 1) if seats > 1 else 0
    remote = rng.random() < unit.remote_share
    return {
        "kind": kind,
        "title": title,
        "description": f"{title}. Posted by {unit.name} for {weeks} week{'s' * (weeks > 1)}.",
        "org_unit": unit.name,
        "owner_id": owner_id,
        "required_skills": required_skills,
        "hours_per_week": rng.choice([2, 4, 4, 6, 8, 8, 10, 12]),
        "start_date": start.isoformat(),
        "end_date": end.isoformat(),
        "seats": seats,
        "learning_seats": learning_seats,
        "remote": remote,
        "location": None if remote else fillers["site"],
    }


def generate(
    seed: int = 7, workers: int = 300, tasks: int = 200, today: date | None = None
) -> DemoData:
    """The same seed and day always give the same data."""
    if workers < MIN_WORKERS:
        raise ValueError(
            f"every org unit needs its managers: ask for {MIN_WORKERS} workers or more"
        )
    rng = random.Random(seed)
    today = today or date.today()
    used_emails: set[str] = set()
    people: list[Body] = []
    managers: dict[str, list[str]] = {unit.name: [] for unit in ORG_UNITS}
    # Every unit gets its managers first, so that each has someone to post its tasks.
    units = [unit for unit in ORG_UNITS for _ in range(MANAGERS_PER_UNIT)]
    for number in range(1, workers + 1):
        if number <= len(units):
            person = _worker(rng, number, units[number - 1], None, used_emails)
            managers[person["org_unit"]].append(person["external_id"])
        else:
            unit = _weighted_unit(rng)
            person = _worker(rng, number, unit, rng.choice(managers[unit.name]), used_emails)
        people.append(person)
    work = []
    for _ in range(tasks):
        unit = _weighted_unit(rng)
        work.append(_task(rng, unit, rng.choice(managers[unit.name]), today))
    return DemoData(skills=demo_skills(), workers=people, tasks=work)


class DemoLoadError(Exception):
    """One line saying which request failed and why."""


def _problem_line(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"{response.status_code} {response.text[:200].strip()}"
    if not isinstance(body, dict):
        return f"{response.status_code} {str(body)[:200]}"
    line = f"{response.status_code} {body.get('title', response.reason_phrase)}"
    if body.get("detail"):
        line += f": {body['detail']}"
    errors = body.get("errors") or []
    if errors and isinstance(errors[0], dict):
        first = errors[0]
        line += f" ({'.'.join(map(str, first.get('loc', [])))}: {first.get('msg', '')})"
    return line


class _Poster:
    """POSTs with the right bearer token; a 429, a 503 or skills not yet known to the catalog
    are retried briefly, anything else that is not 2xx aborts."""

    def __init__(self, client: httpx.AsyncClient, token: TokenSource, seed: int) -> None:
        self.client, self.token, self.seed = client, token, seed

    def _bearer(self, sub: str, roles: list[str], org_unit: str | None) -> str:
        return self.token if isinstance(self.token, str) else self.token(sub, roles, org_unit)

    async def post(
        self,
        path: str,
        body: Body | None,
        what: str,
        *,
        sub: str,
        roles: list[str],
        org_unit: str | None = None,
        idempotency_key: str | None = None,
    ) -> Body:
        headers = {"Authorization": f"Bearer {self._bearer(sub, roles, org_unit)}"}
        if idempotency_key:
            headers["Idempotency-Key"] = f"taskforce-demo-{self.seed}-{idempotency_key}"
        attempt = 0
        while True:
            try:
                response = await self.client.post(path, json=body, headers=headers)
            except httpx.HTTPError as exc:
                raise DemoLoadError(
                    f"{what}: cannot reach {self.client.base_url}: {exc or type(exc).__name__}"
                ) from exc
            if not _worth_retrying(response) or attempt == 8:
                break
            await asyncio.sleep(_retry_after_s(response, attempt))
            attempt += 1
        if not response.is_success:
            raise DemoLoadError(f"{what} failed: {_problem_line(response)}")
        return _json_object(response, what)


def _json_object(response: httpx.Response, what: str) -> Body:
    if not response.content:
        return {}
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise DemoLoadError(f"{what}: the response is not a JSON object")
    return body


def _worth_retrying(response: httpx.Response) -> bool:
    """Rate limits, a restarting service, and skills the catalog has not heard of yet (its
    copy of the taxonomy follows profiles by events, a moment behind)."""
    if response.status_code in (429, 503):
        return True
    if response.status_code == 422:
        try:
            return str(response.json().get("type", "")).endswith("/unknown-skills")
        except ValueError:
            return False
    return False


def _retry_after_s(response: httpx.Response, attempt: int) -> float:
    try:
        return min(float(response.headers.get("retry-after", "")), 5.0)
    except ValueError:
        return min(0.2 * 2**attempt, 3.0)


async def _bounded(
    items: Iterable[Any], each: Callable[[Any], Awaitable[None]], concurrency: int
) -> None:
    """Run `each` over `items` with at most `concurrency` in flight; the first failure
    cancels the rest and is raised as itself."""
    gate = asyncio.Semaphore(concurrency)

    async def one(item: Any) -> None:
        async with gate:
            await each(item)

    try:
        async with asyncio.TaskGroup() as group:
            for item in items:
                group.create_task(one(item))
    except BaseExceptionGroup as failures:
        raise _first_leaf(failures) from None


def _first_leaf(group: BaseExceptionGroup) -> BaseException:
    first = group.exceptions[0]
    return _first_leaf(first) if isinstance(first, BaseExceptionGroup) else first


async def _load(
    base_url: str, token: TokenSource, data: DemoData, seed: int, concurrency: int, console: Console
) -> None:
    columns = (
        TextColumn("{task.description:<8}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    async with httpx.AsyncClient(base_url=base_url, timeout=30.0) as client:
        poster = _Poster(client, token, seed)
        with Progress(*columns, console=console) as progress:
            skills_bar = progress.add_task("Skills", total=len(data.skills))
            workers_bar = progress.add_task("Workers", total=len(data.workers))
            tasks_bar = progress.add_task("Tasks", total=len(data.tasks))

            async def post_skill(skill: Body) -> None:
                await poster.post(
                    "/v1/skills",
                    skill,
                    f"skill {skill['id']}",
                    sub="taskforce-demo",
                    roles=["admin"],
                )
                progress.advance(skills_bar)

            async def post_worker(worker: Body) -> None:
                await poster.post(
                    "/v1/workers",
                    worker,
                    f"worker {worker['external_id']}",
                    sub="taskforce-demo-hris",
                    roles=["service"],
                    idempotency_key=f"worker-{worker['external_id']}",
                )
                progress.advance(workers_bar)

            async def post_task(numbered: tuple[int, Body]) -> None:
                number, task = numbered
                owner, unit = task["owner_id"], task["org_unit"]
                what = f"task {number} ({task['title']!r})"
                created = await poster.post(
                    "/v1/tasks",
                    task,
                    what,
                    sub=owner,
                    roles=["manager"],
                    org_unit=unit,
                    idempotency_key=f"task-{number}",
                )
                if "id" not in created:
                    raise DemoLoadError(f"{what}: the response carries no id")
                await poster.post(
                    f"/v1/tasks/{created['id']}:publish",
                    None,
                    f"publishing {what}",
                    sub=owner,
                    roles=["manager"],
                    org_unit=unit,
                )
                progress.advance(tasks_bar)

            # A skill may name only broader skills already stored, so post them by depth.
            for wave in skill_waves(data.skills):
                await _bounded(wave, post_skill, concurrency)
            await _bounded(data.workers, post_worker, concurrency)
            await _bounded(enumerate(data.tasks, start=1), post_task, concurrency)


def skill_waves(skills: list[Body]) -> list[list[Body]]:
    """Skills grouped by depth in the broader hierarchy: roots first, then their children."""
    depths: dict[str, int] = {}
    for skill in skills:
        depths[skill["id"]] = 1 + max((depths[b] for b in skill["broader"]), default=-1)
    return [
        [s for s in skills if depths[s["id"]] == level] for level in sorted(set(depths.values()))
    ]


def load_demo(
    base_url: str,
    token: TokenSource,
    seed: int = 7,
    workers: int = 300,
    tasks: int = 200,
    *,
    concurrency: int = 8,
    console: Console | None = None,
    today: date | None = None,
) -> DemoData:
    """Post the demo skills, workers and tasks (published) through the gateway at `base_url`.

    `token` is one bearer token for every request (an admin's: tasks then carry their
    manager as `owner_id`) or a function minting a token per (sub, roles, org_unit), so that
    each manager posts their own tasks. Raises `DemoLoadError` on the first failure."""
    data = generate(seed, workers, tasks, today)
    asyncio.run(
        _load(base_url.rstrip("/"), token, data, seed, concurrency, console or Console(stderr=True))
    )
    return data


def stack_is_empty(base_url: str, token: str) -> bool:
    """True when the stack holds no skill yet: the only state in which demo data is loaded."""
    try:
        response = httpx.get(
            f"{base_url.rstrip('/')}/v1/skills",
            params={"limit": 1},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10.0,
        )
    except httpx.HTTPError as exc:
        raise DemoLoadError(f"cannot reach {base_url}: {exc or type(exc).__name__}") from exc
    if not response.is_success:
        raise DemoLoadError(f"listing skills failed: {_problem_line(response)}")
    return not _json_object(response, "listing skills").get("items")
