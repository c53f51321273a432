# Reference values for hcc_core.survival and hcc_core.cox, computed with R's survival package.
#
# Run from the repository root:   Rscript tests/reference/make_reference.R
# Writes tests/reference/*.csv (the exact data the Python tests read) and
# tests/reference/r_reference.json (committed, so the tests never need R).
#
# Every dataset is written to CSV first and then READ BACK, and all R results are computed on
# the re-read data: Python and R therefore see bit-identical numbers.
# The demo cohort data/demo_cohort.csv is included when it exists (re-run after it appears).

suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
  library(digest)   # SHA-256 of the demo cohort, stored in meta
  library(MatchIt)  # standardised mean differences (summary.matchit, estimand = "ATE")
  library(MASS)     # ginv, for the multi-level SMD of Yang and Dalton (2012)
})

out_dir <- file.path("tests", "reference")
days_per_month <- 30.4375

write_and_read <- function(df, name) {
  path <- file.path(out_dir, paste0(name, ".csv"))
  # 17 significant digits so that the CSV round-trips doubles exactly.
  num <- vapply(df, is.numeric, logical(1))
  df_out <- df
  df_out[num] <- lapply(df[num], function(x) ifelse(is.na(x), NA, sprintf("%.17g", x)))
  write.csv(df_out, path, row.names = FALSE, na = "", quote = which(!num))
  read.csv(path, stringsAsFactors = FALSE, na.strings = "", colClasses = sapply(df, function(x) if (is.numeric(x)) "numeric" else "character"))
}

# ---- datasets mapped into the canonical schema ------------------------------------------------
lung_map <- with(survival::lung, data.frame(
  patient_id = sprintf("lung-%03d", seq_along(time)),
  os_months = time / days_per_month,
  os_event = as.numeric(status == 2),
  age = as.numeric(age),
  sex = ifelse(sex == 1, "M", "F"),
  ph_ecog = as.numeric(ph.ecog),
  wt_loss = as.numeric(wt.loss),
  # case weights for weighted Kaplan-Meier: non-integer (R's robust variance) and whole numbers
  case_weight = 0.5 + (age %% 7) / 4,
  case_weight_int = as.numeric(1 + age %% 3),
  stringsAsFactors = FALSE
))
vet_map <- with(survival::veteran, data.frame(
  patient_id = sprintf("vet-%03d", seq_along(time)),
  os_months = time / days_per_month,
  os_event = as.numeric(status),
  treatment_group = ifelse(trt == 1, "systemic", "local+systemic"),
  celltype = as.character(celltype),
  karno = as.numeric(karno),
  diagtime = as.numeric(diagtime),
  age = as.numeric(age),
  prior = as.numeric(prior == 10),
  stringsAsFactors = FALSE
))
# Small hand-made cohorts for edge cases.
edge_flat <- data.frame(  # S(t) is exactly 0.5 on [3, 5): median by the midpoint rule = 4
  patient_id = sprintf("f%d", 1:6), os_months = c(1, 2, 3, 4, 5, 6),
  os_event = c(1, 1, 1, 0, 1, 0), treatment_group = "systemic", stringsAsFactors = FALSE)
edge_ties <- data.frame(  # tied death times across the median
  patient_id = sprintf("t%d", 1:12),
  os_months = c(1, 2, 2, 2, 3, 3, 4, 4, 4, 5, 6, 7),
  os_event = c(1, 1, 1, 0, 1, 1, 1, 1, 0, 1, 0, 1),
  treatment_group = rep(c("systemic", "local+systemic"), 6),
  case_weight = c(0.5, 1.5, 2, 1, 0.25, 3, 1, 1.75, 2.5, 0.5, 1, 2), stringsAsFactors = FALSE)
edge_noevents <- data.frame(  # second arm has no events at all
  patient_id = sprintf("n%d", 1:10),
  os_months = c(2, 4, 5, 7, 9, 3, 6, 8, 10, 12),
  os_event = c(1, 1, 0, 1, 0, 0, 0, 0, 0, 0),
  treatment_group = rep(c("systemic", "local+systemic"), each = 5), stringsAsFactors = FALSE)

datasets <- list(lung = lung_map, veteran = vet_map, edge_flat = edge_flat,
                 edge_ties = edge_ties, edge_noevents = edge_noevents)
demo_path <- file.path("data", "demo_cohort.csv")
have_demo <- file.exists(demo_path)
if (have_demo) {
  demo <- read.csv(demo_path, stringsAsFactors = FALSE, na.strings = c("", "NA"))
  demo$bclc_ab_vs_c <- ifelse(is.na(demo$bclc_stage), NA,
                              ifelse(demo$bclc_stage %in% c("C", "D"), "C", "A/B"))
  demo$log10_afp <- log10(pmax(demo$afp_ng_ml, 1))
  keep <- c("patient_id", "treatment_group", "local_modality", "age", "sex", "child_pugh_class",
            "bclc_stage", "bclc_ab_vs_c", "max_tumor_diameter_cm", "tumor_number", "afp_ng_ml",
            "log10_afp", "albi_score", "albi_grade", "os_months", "os_event", "pfs_months", "pfs_event")
  keep <- intersect(keep, names(demo))
  datasets$demo <- demo[, keep]
}
for (nm in names(datasets)) datasets[[nm]] <- write_and_read(datasets[[nm]], paste0("data_", nm))

LEVELS <- list(
  sex = c("M", "F"), treatment_group = c("systemic", "local+systemic"),
  local_modality = c("none", "mTACE", "HAIC", "IMRT"), child_pugh_class = c("A", "B", "C"),
  bclc_stage = c("0", "A", "B", "C", "D"), tumor_number = c("single", "multiple"),
  bclc_ab_vs_c = c("A/B", "C"), albi_grade = c("1", "2", "3"))

as_group <- function(x, column) {
  # Group factor with levels in the order hcc_core uses (schema order, else sorted).
  present <- unique(x[!is.na(x)])
  lv <- if (!is.null(LEVELS[[column]])) LEVELS[[column]][LEVELS[[column]] %in% as.character(present)]
        else as.character(sort(present))
  factor(as.character(x), levels = lv)
}

surv_cols <- function(endpoint) c(paste0(endpoint, "_months"), paste0(endpoint, "_event"))

# ---- Kaplan-Meier -----------------------------------------------------------------------------
km_case <- function(d, endpoint, by, conf_type, times, weights = NULL) {
  tc <- surv_cols(endpoint)
  dd <- data.frame(time = d[[tc[1]]], status = d[[tc[2]]])
  if (!is.null(by)) dd$g <- as_group(d[[by]], by)
  dd$w <- if (is.null(weights)) 1 else d[[weights]]
  dd <- dd[complete.cases(dd), ]
  form <- if (is.null(by)) Surv(time, status) ~ 1 else Surv(time, status) ~ g
  # weights = w: R's default variance is Greenwood on weighted counts for whole-number
  # weights and the robust infinitesimal jackknife (robust = TRUE) for non-integer ones
  fit <- if (is.null(weights)) survfit(form, data = dd, conf.type = conf_type) else
    survfit(form, data = dd, weights = w, conf.type = conf_type)
  q <- quantile(fit, probs = 0.5)
  grp <- if (is.null(by)) "all" else levels(dd$g)
  strata <- if (is.null(fit$strata)) rep("all", length(fit$time)) else
    rep(sub("^g=", "", names(fit$strata)), fit$strata)
  s <- summary(fit, times = times, extend = TRUE)
  s_strata <- if (is.null(s$strata)) rep("all", length(s$time)) else sub("^g=", "", as.character(s$strata))
  list(
    call = sprintf("survfit(Surv(time, status) ~ %s%s, conf.type = '%s'); quantile(fit, 0.5); summary(fit, times = c(%s), extend = TRUE)",
                   if (is.null(by)) "1" else by,
                   if (is.null(weights)) "" else sprintf(", weights = %s", weights),
                   conf_type, paste(times, collapse = ", ")),
    endpoint = endpoint, by = if (is.null(by)) NA else by, conf_type = conf_type,
    weights = if (is.null(weights)) NA else weights,
    summary = list(group = grp,
                   n = as.numeric(if (is.null(by)) nrow(dd) else table(dd$g)),
                   events = as.numeric(if (is.null(by)) sum(dd$status) else tapply(dd$status, dd$g, sum)),
                   median = unname(as.numeric(q$quantile)), median_lower = unname(as.numeric(q$lower)),
                   median_upper = unname(as.numeric(q$upper))),
    curve = list(group = strata, time = fit$time, survival = fit$surv, lower = fit$lower,
                 upper = fit$upper, at_risk = fit$n.risk, events = fit$n.event, censored = fit$n.censor),
    at = list(group = s_strata, time = s$time, survival = s$surv, lower = s$lower, upper = s$upper,
              at_risk = s$n.risk)
  )
}

logrank_case <- function(d, endpoint, by) {
  tc <- surv_cols(endpoint)
  dd <- data.frame(time = d[[tc[1]]], status = d[[tc[2]]], g = as_group(d[[by]], by))
  dd <- dd[complete.cases(dd), ]
  sd <- survdiff(Surv(time, status) ~ g, data = dd)
  lv <- levels(dd$g)
  pairs <- combn(seq_along(lv), 2)
  pp <- apply(pairs, 2, function(ij) {
    sub <- dd[dd$g %in% lv[ij], ]
    sub$g <- droplevels(sub$g)
    x <- survdiff(Surv(time, status) ~ g, data = sub)
    c(x$chisq, pchisq(x$chisq, 1, lower.tail = FALSE))
  })
  list(call = sprintf("survdiff(Surv(time, status) ~ %s)", by), endpoint = endpoint, by = by,
       statistic = sd$chisq, dof = length(lv) - 1, p_value = pchisq(sd$chisq, length(lv) - 1, lower.tail = FALSE),
       group = lv, observed = as.numeric(sd$obs), expected = as.numeric(sd$exp),
       pairwise = list(group_a = lv[pairs[1, ]], group_b = lv[pairs[2, ]], statistic = pp[1, ],
                       p_value = pp[2, ], p_holm = p.adjust(pp[2, ], "holm"),
                       p_bonferroni = p.adjust(pp[2, ], "bonferroni"), p_BH = p.adjust(pp[2, ], "BH")))
}

rmst_case <- function(d, endpoint, by, tau) {
  tc <- surv_cols(endpoint)
  dd <- data.frame(time = d[[tc[1]]], status = d[[tc[2]]])
  if (!is.null(by)) dd$g <- as_group(d[[by]], by)
  dd <- dd[complete.cases(dd), ]
  form <- if (is.null(by)) Surv(time, status) ~ 1 else Surv(time, status) ~ g
  tab <- summary(survfit(form, data = dd), rmean = tau)$table
  if (is.null(dim(tab))) tab <- matrix(tab, nrow = 1, dimnames = list(NULL, names(tab)))
  list(call = sprintf("summary(survfit(Surv(time, status) ~ %s), rmean = %s)$table[, c('rmean', 'se(rmean)')]",
                      if (is.null(by)) "1" else by, tau),
       endpoint = endpoint, by = if (is.null(by)) NA else by, tau = tau,
       group = if (is.null(by)) "all" else levels(dd$g),
       rmean = unname(tab[, "rmean"]), se = unname(tab[, "se(rmean)"]))
}

followup_case <- function(d, endpoint, conf_type) {
  tc <- surv_cols(endpoint)
  dd <- data.frame(time = d[[tc[1]]], status = d[[tc[2]]])
  dd <- dd[complete.cases(dd), ]
  fit <- survfit(Surv(time, 1 - status) ~ 1, data = dd, conf.type = conf_type)
  q <- quantile(fit, 0.5)
  list(call = sprintf("quantile(survfit(Surv(time, 1 - status) ~ 1, conf.type = '%s'), 0.5)", conf_type),
       endpoint = endpoint, conf_type = conf_type,
       median = unname(q$quantile), lower = unname(q$lower), upper = unname(q$upper))
}

cox_case <- function(d, endpoint, covariates) {
  tc <- surv_cols(endpoint)
  dd <- data.frame(time = d[[tc[1]]], status = d[[tc[2]]])
  for (v in covariates) {
    x <- d[[v]]
    dd[[v]] <- if (is.character(x) || v %in% names(LEVELS)) as_group(x, v) else x
  }
  dd <- dd[complete.cases(dd), ]
  form <- as.formula(paste("Surv(time, status) ~", paste(covariates, collapse = " + ")))
  fit <- coxph(form, data = dd)   # ties = "efron" (default)
  sm <- summary(fit)
  zph <- cox.zph(fit, transform = "km")
  # hcc_core term names: column for continuous, column[level] for factors
  terms <- names(coef(fit))
  for (v in covariates) if (is.factor(dd[[v]])) {
    hit <- startsWith(terms, v) & nchar(terms) > nchar(v)
    terms[hit] <- paste0(v, "[", substring(terms[hit], nchar(v) + 1), "]")
  }
  list(call = sprintf("coxph(%s, ties = 'efron'); cox.zph(fit, transform = 'km')", deparse(form, width.cutoff = 500)),
       endpoint = endpoint, covariates = covariates,
       n = fit$n, events = fit$nevent, term = terms,
       coef = unname(coef(fit)), se = unname(sm$coefficients[, "se(coef)"]),
       hr_lower = unname(sm$conf.int[, "lower .95"]), hr_upper = unname(sm$conf.int[, "upper .95"]),
       p_value = unname(sm$coefficients[, "Pr(>|z|)"]),
       concordance = unname(fit$concordance["concordance"]),
       loglik = fit$loglik, iter = fit$iter,
       zph = list(term = rownames(zph$table), chisq = unname(zph$table[, "chisq"]),
                  df = unname(zph$table[, "df"]), p_value = unname(zph$table[, "p"])))
}

ref <- list(meta = list(R = R.version.string, survival = as.character(packageVersion("survival")),
                        jsonlite = as.character(packageVersion("jsonlite")),
                        MatchIt = as.character(packageVersion("MatchIt")),
                        demo_included = have_demo,
                        # tests fail when data/demo_cohort.csv no longer has this SHA-256
                        demo_sha256 = if (have_demo) digest(file = demo_path, algo = "sha256") else NA),
            km = list(), logrank = list(), rmst = list(), followup = list(), cox = list(),
            p_adjust = list(), fisher = list(), smd = list())
add <- function(kind, name, value) ref[[kind]][[name]] <<- c(list(dataset = strsplit(name, "/")[[1]][1]), value)

for (ct in c("log-log", "log", "plain")) {
  add("km", paste0("lung/all/", ct), km_case(datasets$lung, "os", NULL, ct, c(6, 12, 24)))
  add("km", paste0("lung/sex/", ct), km_case(datasets$lung, "os", "sex", ct, c(6, 12, 24)))
  add("km", paste0("lung/ph_ecog/", ct), km_case(datasets$lung, "os", "ph_ecog", ct, c(6, 12)))
  add("km", paste0("veteran/celltype/", ct), km_case(datasets$veteran, "os", "celltype", ct, c(3, 6, 12)))
  add("km", paste0("veteran/treatment_group/", ct), km_case(datasets$veteran, "os", "treatment_group", ct, c(3, 6, 12)))
  add("km", paste0("edge_flat/all/", ct), km_case(datasets$edge_flat, "os", NULL, ct, c(2, 4)))
  # -1 (before time 0) and 8 (past the last death of local+systemic, where S = 0)
  add("km", paste0("edge_ties/treatment_group/", ct), km_case(datasets$edge_ties, "os", "treatment_group", ct, c(-1, 0, 2, 4, 8)))
  add("km", paste0("edge_noevents/treatment_group/", ct), km_case(datasets$edge_noevents, "os", "treatment_group", ct, c(4, 8)))
  add("km", paste0("lung/sex/weighted/", ct), km_case(datasets$lung, "os", "sex", ct, c(6, 12, 24), "case_weight"))
  add("km", paste0("lung/all/weighted/", ct), km_case(datasets$lung, "os", NULL, ct, c(6, 12, 24), "case_weight"))
  add("km", paste0("lung/ph_ecog/weighted_int/", ct), km_case(datasets$lung, "os", "ph_ecog", ct, c(6, 12), "case_weight_int"))
  add("km", paste0("edge_ties/treatment_group/weighted/", ct), km_case(datasets$edge_ties, "os", "treatment_group", ct, c(-1, 0, 2, 4, 8), "case_weight"))
  add("followup", paste0("lung/", ct), followup_case(datasets$lung, "os", ct))
  add("followup", paste0("veteran/", ct), followup_case(datasets$veteran, "os", ct))
}
add("logrank", "lung/sex", logrank_case(datasets$lung, "os", "sex"))
add("logrank", "lung/ph_ecog", logrank_case(datasets$lung, "os", "ph_ecog"))
add("logrank", "veteran/treatment_group", logrank_case(datasets$veteran, "os", "treatment_group"))
add("logrank", "veteran/celltype", logrank_case(datasets$veteran, "os", "celltype"))
add("logrank", "edge_noevents/treatment_group", logrank_case(datasets$edge_noevents, "os", "treatment_group"))
add("rmst", "lung/sex/12", rmst_case(datasets$lung, "os", "sex", 12))
add("rmst", "lung/all/24", rmst_case(datasets$lung, "os", NULL, 24))
add("rmst", "veteran/celltype/6", rmst_case(datasets$veteran, "os", "celltype", 6))
add("rmst", "edge_flat/all/5.5", rmst_case(datasets$edge_flat, "os", NULL, 5.5))
add("cox", "lung/age+sex+ph_ecog", cox_case(datasets$lung, "os", c("age", "sex", "ph_ecog")))
add("cox", "lung/age+sex+ph_ecog+wt_loss", cox_case(datasets$lung, "os", c("age", "sex", "ph_ecog", "wt_loss")))
add("cox", "lung/sex", cox_case(datasets$lung, "os", c("sex")))
add("cox", "veteran/full", cox_case(datasets$veteran, "os",
    c("treatment_group", "celltype", "karno", "diagtime", "age", "prior")))
add("cox", "edge_ties/treatment_group", cox_case(datasets$edge_ties, "os", c("treatment_group")))

if (have_demo) {
  paper <- c("treatment_group", "age", "sex", "child_pugh_class", "bclc_ab_vs_c",
             "max_tumor_diameter_cm", "tumor_number", "log10_afp", "albi_score")
  for (ep in c("os", "pfs")) {
    if (!all(surv_cols(ep) %in% names(datasets$demo))) next
    for (ct in c("log-log", "log", "plain"))
      add("km", paste0("demo/treatment_group/", ep, "/", ct),
          km_case(datasets$demo, ep, "treatment_group", ct, c(12, 24)))
    add("logrank", paste0("demo/treatment_group/", ep), logrank_case(datasets$demo, ep, "treatment_group"))
    add("rmst", paste0("demo/treatment_group/", ep, "/24"), rmst_case(datasets$demo, ep, "treatment_group", 24))
    covs <- intersect(paper, names(datasets$demo))
    add("cox", paste0("demo/paper/", ep), cox_case(datasets$demo, ep, covs))
    add("followup", paste0("demo/", ep, "/log-log"), followup_case(datasets$demo, ep, "log-log"))
  }
  if ("local_modality" %in% names(datasets$demo))
    add("logrank", "demo/local_modality/os", logrank_case(datasets$demo, "os", "local_modality"))
}

# ---- p.adjust with NA entries (NA is neither counted in m nor adjusted) ------------------------
for (pv in list(c(0.01, NA, 0.03), c(0.04, NA, 0.01, 0.03, NA, 0.2), c(NA, NA)))
  for (m in c("holm", "bonferroni", "BH"))
    ref$p_adjust[[length(ref$p_adjust) + 1]] <- list(
      call = sprintf("p.adjust(c(%s), '%s')", paste(pv, collapse = ", "), m),
      p = pv, method = m, adjusted = p.adjust(pv, m))

# ---- Fisher's exact test on r x c tables ------------------------------------------------------
# Random tables (fixed seed) of the shapes and sizes a cohort of a few hundred patients gives.
# p is NA where R's default workspace (200000) is too small for the exact network algorithm.
set.seed(20240101)
fisher_tables <- list(matrix(c(7, 5, 20, 29, 12, 22), 2),  # the paper's BCLC stage by arm
                      matrix(c(2, 1, 0, 3, 1, 2, 1, 0, 2, 1, 1, 2), nrow = 3),
                      matrix(c(0, 0, 5, 3, 0, 4, 1, 1, 6), 3))
for (sh in list(c(2, 3), c(2, 4), c(2, 5), c(3, 3), c(3, 4), c(4, 4), c(3, 5), c(4, 5), c(5, 5), c(2, 8)))
  for (n in c(30, 60, 100, 200, 300)) {
    pr <- outer(runif(sh[1], 0.3, 1), runif(sh[2], 0.3, 1))
    x <- matrix(rmultinom(1, n, pr / sum(pr)), sh[1])
    fisher_tables[[length(fisher_tables) + 1]] <- x[rowSums(x) > 0, colSums(x) > 0, drop = FALSE]
  }
for (x in fisher_tables) {
  res <- tryCatch(list(p = fisher.test(x)$p.value, error = NA),
                  error = function(e) list(p = NA, error = conditionMessage(e)))
  # beyond the default workspace: R's own Monte-Carlo estimate with 200,000 tables
  set.seed(1)
  sim <- if (is.na(res$p)) fisher.test(x, simulate.p.value = TRUE, B = 200000)$p.value else NA
  ref$fisher[[length(ref$fisher) + 1]] <- list(
    call = sprintf("fisher.test(matrix(c(%s), %d))$p.value", paste(x, collapse = ", "), nrow(x)),
    table = unname(x), p = res$p, error = res$error,
    p_simulated = sim, simulated_call = if (is.na(sim)) NA else
      "set.seed(1); fisher.test(x, simulate.p.value = TRUE, B = 200000)$p.value")
}

# ---- standardised mean differences ------------------------------------------------------------
# Continuous and binary: MatchIt's summary with the pooled SD of an ATE, sqrt((s1^2 + s0^2) / 2)
# (a binary variable's variance is p(1 - p)). Multi-level categorical: Yang and Dalton (2012),
# sqrt((T - C)' S^-1 (T - C)) over all levels but the first, S the mean of the two multinomial
# covariance matrices, MASS::ginv as tableone's StdDiffMulti (tableone is not installed here).
smd_matchit <- function(x, tr) {
  d <- data.frame(tr = tr, x = x)
  s <- summary(matchit(tr ~ x, data = d, method = NULL, estimand = "ATE"), standardize = TRUE)
  abs(unname(s$sum.all["x", "Std. Mean Diff."]))
}
smd_multi <- function(p1, p2) {
  t <- p1[-1]; c <- p2[-1]
  s <- (diag(t, length(t)) - outer(t, t) + diag(c, length(c)) - outer(c, c)) / 2
  sqrt(drop(t(t - c) %*% ginv(s) %*% (t - c)))
}
smd_x <- c(3.1, 4.2, 4.2, 5.0, 5.5, 6.1, 6.1, 6.1, 7.3, 9.8, 12.4)
smd_y <- c(4.2, 5.0, 6.1, 7.7, 8.0, 8.0, 9.1, 10.5, 11.0, 13.2, 15.9, 20.1)
ref$smd$continuous <- list(
  call = "summary(matchit(tr ~ x, method = NULL, estimand = 'ATE'), standardize = TRUE); tr = 1 for x",
  x = smd_x, y = smd_y, smd = smd_matchit(c(smd_x, smd_y), rep(1:0, c(length(smd_x), length(smd_y)))))
ref$smd$binary <- list(  # the paper's sex: 35 of 39 vs 48 of 56 men
  call = "summary(matchit(tr ~ male, method = NULL, estimand = 'ATE'), standardize = TRUE)",
  k1 = 35, n1 = 39, k2 = 48, n2 = 56,
  smd = smd_matchit(c(rep(1:0, c(35, 4)), rep(1:0, c(48, 8))), rep(1:0, c(39, 56))))
ref$smd$multi <- list()
for (pp in list(list(c(0.2, 0.5, 0.3), c(0.1, 0.5, 0.4)),
                list(c(7, 20, 12) / 39, c(5, 29, 22) / 56),
                list(c(0.25, 0.25, 0.25, 0.25), c(0.4, 0.1, 0.3, 0.2)),
                list(c(0.5, 0.5, 0), c(0.3, 0.6, 0.1))))
  ref$smd$multi[[length(ref$smd$multi) + 1]] <- list(
    call = "sqrt((T - C)' MASS::ginv(S) (T - C)), Yang and Dalton (2012)",
    p1 = pp[[1]], p2 = pp[[2]], smd = smd_multi(pp[[1]], pp[[2]]))

write_json(ref, file.path(out_dir, "r_reference.json"), digits = NA, auto_unbox = TRUE,
           pretty = TRUE, na = "null")
cat("wrote", file.path(out_dir, "r_reference.json"), if (have_demo) "(with demo cohort)" else "(demo cohort not present yet)", "\n")
