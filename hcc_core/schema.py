"""The canonical cohort schema: the single source of column names, types, levels and units.

One row per patient. Everything else in ``hcc_core`` refers to columns through the
constants defined here, never through string literals.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .errors import MissingColumnsError
from .i18n import N_, _

__all__ = [
    "Column",
    "COLUMNS",
    "COLUMN_BY_NAME",
    "AE_TERMS",
    "AE_CATEGORY",
    "AE_PREFIX",
    "CATEGORICAL",
    "LEVELS",
    "ENDPOINTS",
    "GROUP_COLUMNS",
    "endpoint_columns",
    "levels_of",
    "require_columns",
    "data_dictionary",
    "ae_columns",
    "DAYS_PER_MONTH",
    "SYNONYMS",
    "PFS_DEATH_AT_CENSORING",
    "FIELD_LABELS",
    "REQUIRED_FIELDS",
    "field_label",
]

# Column names -----------------------------------------------------------------------
PATIENT_ID = "patient_id"
LOCAL_MODALITY = "local_modality"
TREATMENT_GROUP = "treatment_group"
AGE = "age"
SEX = "sex"
ALBUMIN = "albumin_g_l"
BILIRUBIN = "bilirubin_umol_l"
ALBI_SCORE = "albi_score"
ALBI_GRADE = "albi_grade"
CHILD_PUGH_CLASS = "child_pugh_class"
CHILD_PUGH_SCORE = "child_pugh_score"
BCLC_STAGE = "bclc_stage"
TUMOR_NUMBER = "tumor_number"
MAX_DIAMETER = "max_tumor_diameter_cm"
AFP = "afp_ng_ml"
CHRONIC_HEPATITIS = "chronic_hepatitis"
AV_FISTULA = "av_fistula"
EXTRAHEPATIC_SUPPLY = "extrahepatic_supply"
TARGETED_AGENT = "targeted_agent"
IMMUNOTHERAPY_AGENT = "immunotherapy_agent"
OS_MONTHS = "os_months"
OS_EVENT = "os_event"
PFS_MONTHS = "pfs_months"
PFS_EVENT = "pfs_event"
BEST_RESPONSE = "best_response"
TREATMENT_START_DATE = "treatment_start_date"
PROGRESSION_DATE = "progression_date"
DEATH_DATE = "death_date"
LAST_FOLLOWUP_DATE = "last_followup_date"
# Competing risks and time-dependent local therapy (issue 16)
PROGRESSION_EVENT = "progression_event"
DEATH_CAUSE = "death_cause"
LOCAL_START_MONTHS = "local_start_months"
LOCAL_START_DATE = "local_start_date"

# Derived flag (bool), present only when some patient has it: the file had os_event = 1 and
# pfs_event = 0 at the same time (a death at the time PFS was censored). See validate.
PFS_DEATH_AT_CENSORING = "pfs_death_at_censoring"

AE_PREFIX = "ae_"
DAYS_PER_MONTH = 30.4375  # 365.25 / 12, used when months are derived from dates

# Levels (schema order = display order; the first level is the reference level) ------
MODALITY_NONE = "none"
SYSTEMIC = "systemic"
LOCAL_SYSTEMIC = "local+systemic"
YES, NO = "yes", "no"

LEVELS: dict[str, tuple] = {
    LOCAL_MODALITY: (MODALITY_NONE, "mTACE", "HAIC", "IMRT"),
    TREATMENT_GROUP: (SYSTEMIC, LOCAL_SYSTEMIC),
    SEX: ("M", "F"),
    ALBI_GRADE: (1, 2, 3),
    CHILD_PUGH_CLASS: ("A", "B", "C"),
    BCLC_STAGE: ("0", "A", "B", "C", "D"),
    TUMOR_NUMBER: ("single", "multiple"),
    CHRONIC_HEPATITIS: (NO, YES),
    AV_FISTULA: (NO, YES),
    EXTRAHEPATIC_SUPPLY: (NO, YES),
    BEST_RESPONSE: ("CR", "PR", "SD", "PD", "NE"),
    DEATH_CAUSE: ("hcc", "other"),
}

# The paper's ten adverse-event terms and their category (Table 3).
AE_CATEGORY: dict[str, str] = {
    "ae_pain": "local",
    "ae_fever": "local",
    "ae_vomiting": "local",
    "ae_hypertension": "systemic",
    "ae_hand_foot_syndrome": "systemic",
    "ae_rash": "systemic",
    "ae_hypothyroidism": "systemic",
    "ae_diarrhea": "systemic",
    "ae_elevated_alt_ast": "laboratory",
    "ae_elevated_bilirubin": "laboratory",
}
AE_TERMS: tuple[str, ...] = tuple(AE_CATEGORY)

ENDPOINTS: dict[str, tuple[str, str]] = {
    "os": (OS_MONTHS, OS_EVENT),
    "pfs": (PFS_MONTHS, PFS_EVENT),
}


@dataclass(frozen=True)
class Column:
    """One canonical column.

    ``kind`` is one of ``text``, ``category``, ``number``, ``integer``, ``event``
    (0/1), ``grade`` (CTCAE 0-5) or ``date``.
    """

    name: str
    kind: str
    unit: str = ""
    required: bool = False
    description: str = ""
    minimum: float | None = None
    maximum: float | None = None

    @property
    def allowed(self) -> tuple:
        """Allowed values for categorical columns, in schema order (else empty)."""
        return LEVELS.get(self.name, ())


# The adverse-event columns' description, and each term in words (English msgids).
_AE_DESCRIPTION = N_("Worst CTCAE v5 grade of {term} (0 = none).")
_AE_WORDS: dict[str, str] = {}


def _ae(name: str, label: str) -> Column:
    _AE_WORDS[name] = label
    return Column(name, "grade", "CTCAE v5 grade", False, _AE_DESCRIPTION.format(term=label), 0, 5)


COLUMNS: tuple[Column, ...] = (
    Column(PATIENT_ID, "text", "", True, N_("Unique patient identifier (pseudonymised).")),
    Column(LOCAL_MODALITY, "category", "", False,
           N_("Local therapy added to systemic therapy; 'none' = systemic therapy alone. "
           "Required unless treatment_group is given.")),
    Column(TREATMENT_GROUP, "category", "", False,
           N_("Treatment arm; derived from local_modality ('none' -> systemic) when absent.")),
    Column(AGE, "number", "years", False, N_("Age at start of systemic therapy."), 0, 120),
    Column(SEX, "category", "", False, N_("Sex.")),
    Column(ALBUMIN, "number", "g/L", False, N_("Serum albumin at baseline."), 0, 100),
    Column(BILIRUBIN, "number", "umol/L", False, N_("Total bilirubin at baseline."), 0, 1000),
    Column(ALBI_SCORE, "number", "", False,
           N_("ALBI score = 0.66 x log10(bilirubin umol/L) - 0.085 x albumin g/L; "
           "derived when absent.")),
    Column(ALBI_GRADE, "category", "", False,
           N_("ALBI grade: 1 if score <= -2.60, 2 if <= -1.39, else 3; derived when absent.")),
    Column(CHILD_PUGH_CLASS, "category", "", False, N_("Child-Pugh class.")),
    Column(CHILD_PUGH_SCORE, "integer", "points", False, N_("Child-Pugh score."), 5, 15),
    Column(BCLC_STAGE, "category", "", False, N_("Barcelona Clinic Liver Cancer stage.")),
    Column(TUMOR_NUMBER, "category", "", False, N_("Number of intrahepatic tumours.")),
    Column(MAX_DIAMETER, "number", "cm", False, N_("Maximum tumour diameter."), 0, 50),
    Column(AFP, "number", "ng/mL", False, N_("Serum alpha-fetoprotein at baseline."), 0, None),
    Column(CHRONIC_HEPATITIS, "category", "", False, N_("Chronic viral hepatitis (HBV/HCV).")),
    Column(AV_FISTULA, "category", "", False, N_("Arteriovenous fistula.")),
    Column(EXTRAHEPATIC_SUPPLY, "category", "", False, N_("Extrahepatic collateral blood supply.")),
    Column(TARGETED_AGENT, "text", "", False, N_("Tyrosine-kinase inhibitor used (free text).")),
    Column(IMMUNOTHERAPY_AGENT, "text", "", False, N_("PD-1 inhibitor used (free text).")),
    Column(OS_MONTHS, "number", "months", False,
           N_("Overall survival time from start of systemic therapy."), 0, None),
    Column(OS_EVENT, "event", "", False, N_("1 = death, 0 = censored at os_months.")),
    Column(PFS_MONTHS, "number", "months", False,
           N_("Progression-free survival time; must not exceed os_months."), 0, None),
    Column(PFS_EVENT, "event", "", False, N_("1 = progression or death, 0 = censored.")),
    Column(BEST_RESPONSE, "category", "", False,
           N_("Best overall response by mRECIST (NE = not evaluable).")),
    _ae("ae_pain", N_("pain")),
    _ae("ae_fever", N_("fever")),
    _ae("ae_vomiting", N_("vomiting")),
    _ae("ae_hypertension", N_("hypertension")),
    _ae("ae_hand_foot_syndrome", N_("hand-foot syndrome")),
    _ae("ae_rash", N_("rash")),
    _ae("ae_hypothyroidism", N_("hypothyroidism")),
    _ae("ae_diarrhea", N_("diarrhea")),
    _ae("ae_elevated_alt_ast", N_("elevated ALT/AST")),
    _ae("ae_elevated_bilirubin", N_("elevated bilirubin")),
    Column(TREATMENT_START_DATE, "date", "YYYY-MM-DD", False, N_("Start of systemic therapy.")),
    Column(PROGRESSION_DATE, "date", "YYYY-MM-DD", False, N_("Date of first progression.")),
    Column(DEATH_DATE, "date", "YYYY-MM-DD", False, N_("Date of death.")),
    Column(LAST_FOLLOWUP_DATE, "date", "YYYY-MM-DD", False, N_("Date last known alive.")),
    Column(PROGRESSION_EVENT, "event", "", False,
           N_("For PFS events: 1 = radiological progression, 0 = death without progression "
           "(empty when PFS is censored); derived from progression_date and death_date.")),
    Column(DEATH_CAUSE, "category", "", False,
           N_("Cause of death: hcc = HCC-related, other = any other cause (empty when alive).")),
    Column(LOCAL_START_MONTHS, "number", "months", False,
           N_("Months from the start of systemic therapy to the first local therapy (empty "
           "without local therapy); derived from local_start_date."), 0, None),
    Column(LOCAL_START_DATE, "date", "YYYY-MM-DD", False, N_("Date of the first local therapy.")),
)

COLUMN_BY_NAME: dict[str, Column] = {c.name: c for c in COLUMNS}
# Units that are words, marked for translation: messages show ``_(column.unit)``.
UNIT_WORDS = (N_("years"), N_("points"), N_("months"), N_("CTCAE v5 grade"))

# Each canonical field in words, as the upload wizard offers it (unit or coding in brackets).
# fmt: off
FIELD_LABELS: dict[str, str] = {
    PATIENT_ID: N_("Patient ID"),
    LOCAL_MODALITY: N_("Local therapy (none, mTACE, HAIC, IMRT)"),
    TREATMENT_GROUP: N_("Treatment group (systemic or local + systemic)"),
    AGE: N_("Age (years)"),
    SEX: N_("Sex (M/F)"),
    ALBUMIN: N_("Albumin (g/L)"),
    BILIRUBIN: N_("Total bilirubin (umol/L)"),
    ALBI_SCORE: N_("ALBI score"),
    ALBI_GRADE: N_("ALBI grade (1-3)"),
    CHILD_PUGH_CLASS: N_("Child-Pugh class (A/B/C)"),
    CHILD_PUGH_SCORE: N_("Child-Pugh score (points)"),
    BCLC_STAGE: N_("BCLC stage (0/A/B/C/D)"),
    TUMOR_NUMBER: N_("Number of tumours (single/multiple)"),
    MAX_DIAMETER: N_("Maximum tumour diameter (cm)"),
    AFP: N_("AFP (ng/mL)"),
    CHRONIC_HEPATITIS: N_("Chronic viral hepatitis (yes/no)"),
    AV_FISTULA: N_("Arteriovenous fistula (yes/no)"),
    EXTRAHEPATIC_SUPPLY: N_("Extrahepatic blood supply (yes/no)"),
    TARGETED_AGENT: N_("Targeted agent (TKI)"),
    IMMUNOTHERAPY_AGENT: N_("Immunotherapy agent (PD-1 inhibitor)"),
    OS_MONTHS: N_("Overall survival (months)"),
    OS_EVENT: N_("Death (1 = died, 0 = censored)"),
    PFS_MONTHS: N_("Progression-free survival (months)"),
    PFS_EVENT: N_("Progression or death (1 = event, 0 = censored)"),
    BEST_RESPONSE: N_("Best response (mRECIST: CR/PR/SD/PD/NE)"),
    TREATMENT_START_DATE: N_("Start of systemic therapy (date)"),
    PROGRESSION_DATE: N_("Date of progression"),
    DEATH_DATE: N_("Date of death"),
    LAST_FOLLOWUP_DATE: N_("Date last known alive (last follow-up)"),
    PROGRESSION_EVENT: N_("PFS event type (1 = progression, 0 = death without progression)"),
    DEATH_CAUSE: N_("Cause of death (hcc/other)"),
    LOCAL_START_MONTHS: N_("Time to first local therapy (months)"),
    LOCAL_START_DATE: N_("Date of first local therapy"),
    "ae_pain": N_("Adverse event: pain (CTCAE grade)"),
    "ae_fever": N_("Adverse event: fever (CTCAE grade)"),
    "ae_vomiting": N_("Adverse event: vomiting (CTCAE grade)"),
    "ae_hypertension": N_("Adverse event: hypertension (CTCAE grade)"),
    "ae_hand_foot_syndrome": N_("Adverse event: hand-foot syndrome (CTCAE grade)"),
    "ae_rash": N_("Adverse event: rash (CTCAE grade)"),
    "ae_hypothyroidism": N_("Adverse event: hypothyroidism (CTCAE grade)"),
    "ae_diarrhea": N_("Adverse event: diarrhea (CTCAE grade)"),
    "ae_elevated_alt_ast": N_("Adverse event: elevated ALT/AST (CTCAE grade)"),
    "ae_elevated_bilirubin": N_("Adverse event: elevated bilirubin (CTCAE grade)"),
}
# fmt: on
# What the app cannot do without: every group of fields needs one of its members.
REQUIRED_FIELDS: tuple[tuple[str, ...], ...] = ((PATIENT_ID,), (LOCAL_MODALITY, TREATMENT_GROUP))


def field_label(name: str) -> str:
    """A canonical field in words ("Age (years)"), in the current language; other ``ae_*``
    columns as adverse events."""
    if name in FIELD_LABELS:
        return _(FIELD_LABELS[name])
    if name.startswith(AE_PREFIX):
        term = name[len(AE_PREFIX):].replace("_", " ")
        return _("Adverse event: {term} (CTCAE grade)").format(term=term)
    col = COLUMN_BY_NAME.get(name)
    text = name.replace("_", " ").capitalize()
    return f"{text} ({col.unit})" if col is not None and col.unit else text
CATEGORICAL: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.kind == "category")
# Columns that make sense as a "compare by" grouping in survival and tables.
GROUP_COLUMNS: tuple[str, ...] = (
    TREATMENT_GROUP, LOCAL_MODALITY, CHILD_PUGH_CLASS, BCLC_STAGE, ALBI_GRADE,
    TUMOR_NUMBER, SEX,
)


def endpoint_columns(endpoint: str) -> tuple[str, str]:
    """Return ``(time_column, event_column)`` for ``"os"`` or ``"pfs"``."""
    try:
        return ENDPOINTS[endpoint]
    except KeyError:
        raise ValueError(
            f"Unknown endpoint '{endpoint}'. Use 'os' (overall survival) or "
            "'pfs' (progression-free survival)."
        ) from None


def levels_of(df: pd.DataFrame, column: str) -> list:
    """Levels of ``column`` present in ``df``, in schema order (unknown extras sorted after)."""
    present = pd.unique(df[column].dropna())
    known = [lv for lv in LEVELS.get(column, ()) if lv in set(present)]
    extra = sorted((v for v in present if v not in set(known)), key=str)
    return known + extra


def ae_columns(df: pd.DataFrame) -> list[str]:
    """Adverse-event columns in ``df``: the paper's terms first, then other ``ae_*`` columns."""
    known = [c for c in AE_TERMS if c in df.columns]
    other = sorted(c for c in df.columns if c.startswith(AE_PREFIX) and c not in AE_CATEGORY)
    return known + other


def require_columns(df: pd.DataFrame, columns: list[str] | tuple[str, ...], analysis: str) -> None:
    """Raise :class:`MissingColumnsError` naming ``analysis`` if any column is absent."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise MissingColumnsError(analysis, missing)


# Header synonyms for ``io.suggest_mapping`` (compared after lower-casing and removing spaces
# and punctuation, so "OS (months)", "os_months" and "OS months" are the same key). The
# canonical name itself always counts as a synonym. Chinese headers as exported by hospital
# information systems are included.
# fmt: off
SYNONYMS: dict[str, tuple[str, ...]] = {
    PATIENT_ID: ("patient id", "patient", "id", "patient no", "patient number", "subject id",
                 "case id", "mrn", "患者编号", "病人编号", "编号", "序号", "住院号", "病案号", "病历号", "患者id",
                 "id号", "病例号", "病例编号", "门诊号", "登记号", "就诊号", "病人id", "患者号",
                 "研究编号", "受试者编号"),
    LOCAL_MODALITY: ("local modality", "local therapy", "local treatment", "modality", "局部治疗",
                     "局部治疗方式", "局部治疗方法"),
    TREATMENT_GROUP: ("treatment group", "group", "arm", "treatment arm", "treatment", "分组",
                      "组别", "治疗组", "治疗分组", "治疗方式"),
    AGE: ("age years", "age at diagnosis", "年龄", "年龄岁"),
    SEX: ("gender", "sex m f", "性别"),
    ALBUMIN: ("albumin", "alb", "albumin g l", "serum albumin", "白蛋白", "血清白蛋白"),
    BILIRUBIN: ("bilirubin", "tbil", "total bilirubin", "bilirubin umol l", "总胆红素", "胆红素",
                "血清总胆红素"),
    ALBI_SCORE: ("albi", "albi score", "albi评分"),
    ALBI_GRADE: ("albi grade", "albi分级"),
    CHILD_PUGH_CLASS: ("child pugh", "child pugh class", "child pugh grade", "cp class",
                       "child pugh分级", "肝功能分级", "child分级"),
    CHILD_PUGH_SCORE: ("child pugh score", "cp score", "child pugh评分", "child评分"),
    BCLC_STAGE: ("bclc", "bclc stage", "bclc分期", "分期"),
    TUMOR_NUMBER: ("tumor number", "tumour number", "number of tumors", "number of tumours",
                   "tumor count", "肿瘤数目", "肿瘤数量", "病灶数目", "肿瘤个数"),
    MAX_DIAMETER: ("max tumor diameter", "maximum tumor diameter", "max tumour diameter",
                   "maximum tumour diameter", "tumor size", "tumour size", "tumor diameter",
                   "max diameter cm", "最大肿瘤直径", "肿瘤最大直径", "肿瘤直径", "肿瘤最大径", "最大径",
                   "最大直径"),
    AFP: ("afp", "alpha fetoprotein", "afp ng ml", "甲胎蛋白"),
    CHRONIC_HEPATITIS: ("chronic hepatitis", "hepatitis", "hbv", "viral hepatitis", "慢性肝炎",
                        "病毒性肝炎", "乙肝", "乙肝病史", "肝炎病史", "hbv感染"),
    AV_FISTULA: ("av fistula", "arteriovenous fistula", "动静脉瘘"),
    EXTRAHEPATIC_SUPPLY: ("extrahepatic supply", "extrahepatic blood supply",
                          "extrahepatic collateral supply", "肝外供血", "肝外侧支供血"),
    TARGETED_AGENT: ("targeted agent", "targeted therapy", "tki", "靶向药物", "靶向药", "靶向治疗"),
    IMMUNOTHERAPY_AGENT: ("immunotherapy agent", "immunotherapy", "pd 1 inhibitor",
                          "pd1 inhibitor", "免疫药物", "免疫治疗", "pd 1抑制剂"),
    OS_MONTHS: ("os", "os months", "os time", "overall survival", "overall survival months",
                "os mo", "总生存期", "总生存时间", "生存时间", "os月", "生存期", "总生存"),
    OS_EVENT: ("os event", "os status", "death", "dead", "vital status", "status",
               "death event", "生存状态", "死亡", "是否死亡", "结局", "生存结局", "结局事件", "死亡事件"),
    PFS_MONTHS: ("pfs", "pfs months", "pfs time", "progression free survival",
                 "progression free survival months", "无进展生存期", "无进展生存时间", "pfs月"),
    PFS_EVENT: ("pfs event", "pfs status", "progression", "进展", "是否进展",
                "进展状态", "疾病进展", "pfs事件", "pfs状态"),
    BEST_RESPONSE: ("best response", "best overall response", "response", "mrecist",
                    "mrecist response", "最佳疗效", "疗效", "疗效评价", "最佳总体疗效",
                    "疗效评估", "最佳缓解"),
    TREATMENT_START_DATE: ("treatment start date", "start date", "date of treatment start",
                           "治疗开始日期", "开始治疗日期", "治疗日期", "开始日期", "治疗开始时间",
                           "开始治疗时间", "首次治疗日期", "入组日期"),
    PROGRESSION_DATE: ("progression date", "date of progression", "进展日期", "疾病进展日期", "进展时间",
                       "疾病进展时间"),
    DEATH_DATE: ("death date", "date of death", "死亡日期", "死亡时间"),
    LAST_FOLLOWUP_DATE: ("last followup date", "last follow up date", "last follow up",
                         "date of last follow up", "last contact", "末次随访日期", "末次随访", "最后随访日期",
                         "随访截止日期", "末次随访时间", "最后随访时间", "随访日期"),
    PROGRESSION_EVENT: ("progression or death", "pfs event type", "first event type",
                        "进展或死亡", "首次事件类型"),
    DEATH_CAUSE: ("cause of death", "death cause", "死亡原因", "死因"),
    LOCAL_START_MONTHS: ("local start months", "time to local therapy",
                         "months to local therapy", "局部治疗开始时间", "至局部治疗时间"),
    LOCAL_START_DATE: ("local start date", "local therapy date", "date of local therapy",
                       "局部治疗日期", "局部治疗开始日期"),
    "ae_pain": ("pain", "疼痛"),
    "ae_fever": ("fever", "发热"),
    "ae_vomiting": ("vomiting", "nausea vomiting", "呕吐", "恶心呕吐"),
    "ae_hypertension": ("hypertension", "高血压"),
    "ae_hand_foot_syndrome": ("hand foot syndrome", "hfs", "hand foot skin reaction", "手足综合征",
                              "手足皮肤反应"),
    "ae_rash": ("rash", "皮疹"),
    "ae_hypothyroidism": ("hypothyroidism", "甲状腺功能减退", "甲减"),
    "ae_diarrhea": ("diarrhea", "diarrhoea", "腹泻"),
    "ae_elevated_alt_ast": ("elevated alt ast", "alt ast elevation", "transaminase elevation",
                            "转氨酶升高", "肝酶升高"),
    "ae_elevated_bilirubin": ("elevated bilirubin", "bilirubin elevation",
                              "hyperbilirubinemia", "胆红素升高", "高胆红素血症"),
}
# fmt: on


def _allowed_text(c: Column) -> str:
    if c.allowed:
        return "; ".join(str(v) for v in c.allowed)
    if c.kind == "event":
        return "0; 1"
    if c.kind == "grade":
        return "0; 1; 2; 3; 4; 5"
    if c.minimum is not None and c.maximum is not None:
        return _("{low} to {high}").format(low=f"{c.minimum:g}", high=f"{c.maximum:g}")
    if c.minimum is not None:
        return f">= {c.minimum:g}"
    return ""


def _describe(c: Column) -> str:
    """The column's description in the current language."""
    if c.name in _AE_WORDS:
        return _(_AE_DESCRIPTION).format(term=_(_AE_WORDS[c.name]))
    return _(c.description) if c.description else ""


def data_dictionary() -> pd.DataFrame:
    """The data dictionary as a DataFrame (column, type, unit, allowed values, required, description)."""
    rows = []
    for c in COLUMNS:
        rows.append(
            {
                "column": c.name,
                "type": c.kind,
                "unit": _(c.unit) if c.unit else "",
                "allowed_values": _allowed_text(c),
                "required": _("yes") if c.required else _("no"),
                "description": _describe(c),
            }
        )
    rows.append(
        {
            "column": "ae_<term>",
            "type": "grade",
            "unit": _("CTCAE v5 grade"),
            "allowed_values": "0; 1; 2; 3; 4; 5",
            "required": _("no"),
            "description": _("Any other adverse-event term, worst CTCAE v5 grade (0 = none)."),
        }
    )
    return pd.DataFrame(rows)
