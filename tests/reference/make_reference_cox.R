# Reference values for hcc_core.cox's engine features, computed with R's survival package:
# case weights (non-integer), strata, cluster-robust variance, Breslow ties, (start, stop] data
# (survSplit at 12 months, a treatment effect before/after 12 months, left truncation), and
# cox.zph / concordance with strata and weights.
#
# Run from the repository root:   Rscript tests/reference/make_reference_cox.R
# Writes tests/reference/data_cox.csv, data_cox_split.csv (the exact data the Python tests read)
# and tests/reference/r_cox_reference.json (committed, so the tests never need R).
# Every dataset is written to CSV and READ BACK before fitting: both sides see the same doubles.

suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})

out_dir <- file.path("tests", "reference")

write_and_read <- function(df, name) {
  path <- file.path(out_dir, paste0(name, ".csv"))
  num <- vapply(df, is.numeric, logical(1))
  df_out <- df
  df_out[num] <- lapply(df[num], function(x) ifelse(is.na(x), NA, sprintf("%.17g", x)))
  write.csv(df_out, path, row.names = FALSE, na = "", quote = which(!num))
  read.csv(path, stringsAsFactors = FALSE, na.strings = "",
           colClasses = sapply(df, function(x) if (is.numeric(x)) "numeric" else "character"))
}

# ---- a synthetic cohort in the canonical schema, with heavy ties ------------------------------
set.seed(20261130)
n <- 300
trt <- rbinom(n, 1, 0.45)
age <- round(rnorm(n, 63, 9))
sexF <- rbinom(n, 1, 0.2)
cpB <- rbinom(n, 1, 0.3)
rate <- 0.05 * exp(-0.4 * trt + 0.02 * (age - 63) + 0.5 * cpB)
t_event <- rexp(n, rate)
t_cens <- runif(n, 6, 40)
cohort <- data.frame(
  patient_id = sprintf("c-%03d", 1:n),
  os_months = pmax(round(pmin(t_event, t_cens) * 2) / 2, 0.5),  # half-month grid: many ties
  os_event = as.numeric(t_event <= t_cens),
  treatment_group = ifelse(trt == 1, "local+systemic", "systemic"),
  age = age,
  sex = ifelse(sexF == 1, "F", "M"),
  child_pugh_class = ifelse(cpB == 1, "B", "A"),
  w = round(runif(n, 0.2, 3), 3),  # non-integer case weights (e.g. IPTW)
  centre = sprintf("centre-%02d", sample(1:25, n, replace = TRUE)),
  stringsAsFactors = FALSE
)
# left truncation: a third of the patients enter the risk set after time 0
late <- runif(n) < 1 / 3
cohort$entry <- ifelse(late, round(cohort$os_months * runif(n, 0, 0.8) * 2) / 2, 0)
cohort$entry <- pmin(cohort$entry, cohort$os_months - 0.25)
cohort$entry[cohort$entry < 0] <- 0
d <- write_and_read(cohort, "data_cox")
d$trt <- as.numeric(d$treatment_group == "local+systemic")
d$sexF <- as.numeric(d$sex == "F")
d$cpB <- as.numeric(d$child_pugh_class == "B")

# ---- what each case records ----------------------------------------------------------------
num <- function(x) unname(as.numeric(x))
record <- function(fit, x_terms, extra = list()) {
  s <- summary(fit)
  robust <- !is.null(fit$naive.var)
  naive <- if (robust) fit$naive.var else fit$var
  z <- cox.zph(fit, transform = "km")
  c(list(
    term = x_terms,
    coef = num(coef(fit)),
    se = num(sqrt(diag(naive))),
    robust_se = if (robust) num(sqrt(diag(fit$var))) else rep(NA, length(coef(fit))),
    hr_lower = num(s$conf.int[, "lower .95"]),
    hr_upper = num(s$conf.int[, "upper .95"]),
    p_value = num(s$coefficients[, ncol(s$coefficients)]),
    loglik = num(fit$loglik),
    iter = fit$iter,
    score = num(fit$score),
    n = fit$n,
    events = fit$nevent,
    concordance = num(fit$concordance["concordance"]),
    zph = list(term = rownames(z$table), chisq = num(z$table[, "chisq"]),
               df = num(z$table[, "df"]), p_value = num(z$table[, "p"]))
  ), extra)
}
ref <- list(meta = list(
  generated_by = "tests/reference/make_reference_cox.R",
  r_version = R.version.string,
  survival_version = as.character(packageVersion("survival"))
))

# ---- right-censored data (hcc_core: fit_cox on data_cox.csv) --------------------------------
cases <- list()
cases$weights <- record(
  coxph(Surv(os_months, os_event) ~ trt + age + sexF, d, weights = w),
  c("treatment_group[local+systemic]", "age", "sex[F]"),
  list(call = "coxph(Surv(os_months, os_event) ~ trt + age + sexF, d, weights = w)",
       covariates = c("treatment_group", "age", "sex"), weights = "w"))
cases$strata <- record(
  coxph(Surv(os_months, os_event) ~ trt + age + strata(child_pugh_class), d),
  c("treatment_group[local+systemic]", "age"),
  list(call = "coxph(Surv(os_months, os_event) ~ trt + age + strata(child_pugh_class), d)",
       covariates = c("treatment_group", "age"), strata = "child_pugh_class"))
cases$cluster <- record(
  coxph(Surv(os_months, os_event) ~ trt + age + sexF, d, cluster = centre),
  c("treatment_group[local+systemic]", "age", "sex[F]"),
  list(call = "coxph(Surv(os_months, os_event) ~ trt + age + sexF, d, cluster = centre)",
       covariates = c("treatment_group", "age", "sex"), cluster = "centre"))
cases$breslow <- record(
  coxph(Surv(os_months, os_event) ~ trt + age + sexF, d, ties = "breslow"),
  c("treatment_group[local+systemic]", "age", "sex[F]"),
  list(call = "coxph(Surv(os_months, os_event) ~ trt + age + sexF, d, ties = 'breslow')",
       covariates = c("treatment_group", "age", "sex"), ties = "breslow"))
cases$robust <- record(
  coxph(Surv(os_months, os_event) ~ trt + age, d, robust = TRUE),
  c("treatment_group[local+systemic]", "age"),
  list(call = "coxph(Surv(os_months, os_event) ~ trt + age, d, robust = TRUE)",
       covariates = c("treatment_group", "age"), robust = TRUE))
cases$strata_weights_cluster_breslow <- record(
  coxph(Surv(os_months, os_event) ~ trt + age + sexF + strata(child_pugh_class), d,
        weights = w, cluster = centre, ties = "breslow"),
  c("treatment_group[local+systemic]", "age", "sex[F]"),
  list(call = paste("coxph(Surv(os_months, os_event) ~ trt + age + sexF +",
                    "strata(child_pugh_class), d, weights = w, cluster = centre, ties = 'breslow')"),
       covariates = c("treatment_group", "age", "sex"), strata = "child_pugh_class",
       weights = "w", cluster = "centre", ties = "breslow"))
cases$strata_weights_efron <- record(
  coxph(Surv(os_months, os_event) ~ trt + age + strata(child_pugh_class, sex), d, weights = w),
  c("treatment_group[local+systemic]", "age"),
  list(call = "coxph(Surv(os_months, os_event) ~ trt + age + strata(child_pugh_class, sex), d, weights = w)",
       covariates = c("treatment_group", "age"), strata = c("child_pugh_class", "sex"),
       weights = "w"))
ref$fit_cox <- cases

# ---- (start, stop] data (hcc_core: coxph_arrays) ---------------------------------------------
arrays <- list()
unsplit <- coxph(Surv(os_months, os_event) ~ trt + age, d)
split <- survSplit(Surv(os_months, os_event) ~ ., data = d, cut = 12, episode = "period")
split$trt_before12 <- split$trt * (split$period == 1)
split$trt_after12 <- split$trt * (split$period == 2)
split <- split[order(split$patient_id, split$tstart), c("patient_id", "tstart", "os_months",
  "os_event", "trt", "age", "trt_before12", "trt_after12", "w", "centre", "child_pugh_class")]
s <- write_and_read(split, "data_cox_split")
arrays$survsplit_12 <- record(
  coxph(Surv(tstart, os_months, os_event) ~ trt + age, s), c("trt", "age"),
  list(call = "coxph(Surv(tstart, os_months, os_event) ~ trt + age, survSplit(d, cut = 12))",
       data = "cox_split", start = "tstart", x = c("trt", "age"),
       unsplit_coef = num(coef(unsplit)), unsplit_se = num(sqrt(diag(unsplit$var))),
       unsplit_loglik = num(unsplit$loglik)))
arrays$treatment_before_after_12 <- record(
  coxph(Surv(tstart, os_months, os_event) ~ trt_before12 + trt_after12 + age, s,
        cluster = patient_id),
  c("trt_before12", "trt_after12", "age"),
  list(call = paste("coxph(Surv(tstart, os_months, os_event) ~ trt_before12 + trt_after12 +",
                    "age, survSplit(d, cut = 12), cluster = patient_id)"),
       data = "cox_split", start = "tstart", x = c("trt_before12", "trt_after12", "age"),
       cluster = "patient_id"))
arrays$left_truncation <- record(
  coxph(Surv(entry, os_months, os_event) ~ trt + age + sexF, d),
  c("trt", "age", "sexF"),
  list(call = "coxph(Surv(entry, os_months, os_event) ~ trt + age + sexF, d)",
       data = "cox", start = "entry", x = c("trt", "age", "sexF")))
arrays$left_truncation_strata_weights_cluster <- record(
  coxph(Surv(entry, os_months, os_event) ~ trt + age + strata(child_pugh_class), d,
        weights = w, cluster = centre),
  c("trt", "age"),
  list(call = paste("coxph(Surv(entry, os_months, os_event) ~ trt + age +",
                    "strata(child_pugh_class), d, weights = w, cluster = centre)"),
       data = "cox", start = "entry", x = c("trt", "age"), strata = "child_pugh_class",
       weights = "w", cluster = "centre"))
arrays$left_truncation_breslow <- record(
  coxph(Surv(entry, os_months, os_event) ~ trt + age, d, ties = "breslow"),
  c("trt", "age"),
  list(call = "coxph(Surv(entry, os_months, os_event) ~ trt + age, d, ties = 'breslow')",
       data = "cox", start = "entry", x = c("trt", "age"), ties = "breslow"))
ref$coxph_arrays <- arrays

# ---- separation: R converges and warns that the coefficient may be infinite ----------------
sep <- d[d$child_pugh_class == "B", ]
sep$os_event <- as.numeric(sep$trt == 0 & sep$os_event == 1)  # no events in one arm
fit <- suppressWarnings(coxph(Surv(os_months, os_event) ~ trt, sep))
ref$separation <- list(call = "coxph(Surv(os_months, os_event) ~ trt, cp B, no events if trt = 1)",
                       coef = num(coef(fit)), iter = fit$iter, loglik = num(fit$loglik))

# ---- subgroup forest on veteran (data_veteran.csv, written by make_reference.R) -------------
vet <- read.csv(file.path(out_dir, "data_veteran.csv"), stringsAsFactors = FALSE)
vet$trt <- as.numeric(vet$treatment_group == "local+systemic")
base <- coxph(Surv(os_months, os_event) ~ trt + celltype, vet)
full <- coxph(Surv(os_months, os_event) ~ trt * celltype, vet)
levels_hr <- lapply(sort(unique(vet$celltype)), function(lv) {
  f <- coxph(Surv(os_months, os_event) ~ trt, vet[vet$celltype == lv, ])
  s <- summary(f)
  list(level = lv, hr = num(exp(coef(f))), hr_lower = num(s$conf.int[, "lower .95"]),
       hr_upper = num(s$conf.int[, "upper .95"]), p_value = num(s$coefficients[, "Pr(>|z|)"]))
})
ref$forest_veteran <- list(
  call = paste("anova(coxph(Surv(os_months, os_event) ~ trt + celltype, vet),",
               "coxph(Surv(os_months, os_event) ~ trt * celltype, vet)); per level:",
               "coxph(Surv(os_months, os_event) ~ trt, subset(vet, celltype == level))"),
  p_interaction = num(anova(base, full)[2, "Pr(>|Chi|)"]),
  levels = levels_hr)

write_json(ref, file.path(out_dir, "r_cox_reference.json"), digits = NA, auto_unbox = TRUE,
           pretty = TRUE, na = "null")
cat("wrote", file.path(out_dir, "r_cox_reference.json"), "\n")
