# Reference values for hcc_core.propensity: R glm, MatchIt, survival, and cobalt's balance
# formulas computed by hand (cobalt is not installed; its definitions are written out below).
#
# Run from the repository root:   Rscript tests/reference/make_reference_propensity.R
#
# MatchIt must be >= 4.5.4, or 4.5.1 with the upstream fix of MatchIt issue #163: before it,
# src/nn_matchC_vec.cpp called the integer abs() on distances on some systems, so a caliper below
# 1 never bound and the left neighbour always won (Debian bookworm's r-cran-matchit 4.5.1 has
# this bug). The committed fixtures were made with MatchIt 4.5.1's source (commit 9762dc6) with
# abs( -> std::abs( in that file, as upstream commit 4b5b2f8 did, installed to a private library:
#   sed -i 's/\([^:]\)abs(/\1std::abs(/g' src/nn_matchC_vec.cpp
#   R CMD INSTALL --library=/tmp/Rlib-matchit .
#   R_LIBS=/tmp/Rlib-matchit Rscript tests/reference/make_reference_propensity.R
# The script stops if the MatchIt it loads still has the bug.
# Writes tests/reference/data_ps_<name>.csv (the exact data the Python tests read) and
# tests/reference/r_reference_propensity.json (committed, so the tests never need R).
# Every dataset is written to CSV and READ BACK first, so Python and R see identical numbers.
#
# Cohorts:
#   demo     data/demo_cohort.csv, the paper's multivariable covariates (the worked example)
#   veteran  survival::veteran mapped to the schema, celltype a 4-level factor, and a few
#            covariate values set to NA on fixed rows (complete-case handling is part of the test)

suppressPackageStartupMessages({
  library(survival)
  library(MatchIt)
  library(jsonlite)
})

local({  # treated at 0.5, controls at 0.1 and 0.6: the nearest is 0.6
  d <- data.frame(t = c(1, 0, 0), x = c(0.5, 0.1, 0.6))
  m <- matchit(t ~ x, data = d, distance = d$x, method = "nearest")
  if (m$match.matrix[1, 1] != "3") stop("This MatchIt has the abs() caliper bug (issue #163); see the header.")
})

out_dir <- file.path("tests", "reference")
days_per_month <- 30.4375

write_and_read <- function(df, name) {
  path <- file.path(out_dir, paste0(name, ".csv"))
  num <- vapply(df, is.numeric, logical(1))
  df_out <- df
  df_out[num] <- lapply(df[num], function(x) ifelse(is.na(x), NA, sprintf("%.17g", x)))
  write.csv(df_out, path, row.names = FALSE, na = "", quote = which(!num))
  read.csv(path, stringsAsFactors = FALSE, na.strings = "",
           colClasses = sapply(df, function(x) if (is.numeric(x)) "numeric" else "character"))
}

# ---- cohorts ----------------------------------------------------------------------------------
demo <- read.csv(file.path("data", "demo_cohort.csv"), stringsAsFactors = FALSE,
                 na.strings = c("", "NA"))
demo$bclc_ab_vs_c <- ifelse(is.na(demo$bclc_stage), NA,
                            ifelse(demo$bclc_stage %in% c("C", "D"), "C", "A/B"))
demo$log10_afp <- log10(pmax(demo$afp_ng_ml, 1))
demo <- demo[, c("patient_id", "treatment_group", "age", "sex", "child_pugh_class", "bclc_stage",
                 "bclc_ab_vs_c", "max_tumor_diameter_cm", "tumor_number", "afp_ng_ml",
                 "log10_afp", "albi_score", "os_months", "os_event", "pfs_months", "pfs_event")]

vet <- with(survival::veteran, data.frame(
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
vet$karno[c(3, 18, 40, 77, 101)] <- NA
vet$celltype[c(12, 60, 130)] <- NA

# survival::lung: women as the "treated" group (90 vs 138), ECOG a 4-level factor, and the
# data's own missing values (ph.ecog, ph.karno, wt.loss, meal.cal)
lung <- with(survival::lung, data.frame(
  patient_id = sprintf("lung-%03d", seq_along(time)),
  os_months = time / days_per_month,
  os_event = as.numeric(status == 2),
  treatment_group = ifelse(sex == 2, "local+systemic", "systemic"),
  age = as.numeric(age),
  ph_ecog = as.character(ph.ecog),
  ph_karno = as.numeric(ph.karno),
  wt_loss = as.numeric(wt.loss),
  meal_cal = as.numeric(meal.cal),
  stringsAsFactors = FALSE
))

cohorts <- list(
  demo = list(data = write_and_read(demo, "data_ps_demo"),
              covariates = c("age", "sex", "child_pugh_class", "bclc_ab_vs_c",
                             "max_tumor_diameter_cm", "tumor_number", "log10_afp", "albi_score")),
  veteran = list(data = write_and_read(vet, "data_ps_veteran"),
                 covariates = c("celltype", "karno", "diagtime", "age", "prior")),
  lung = list(data = write_and_read(lung, "data_ps_lung"),
              covariates = c("age", "ph_ecog", "ph_karno", "wt_loss", "meal_cal"))
)

LEVELS <- list(sex = c("M", "F"), treatment_group = c("systemic", "local+systemic"),
               child_pugh_class = c("A", "B", "C"), tumor_number = c("single", "multiple"),
               bclc_ab_vs_c = c("A/B", "C"))
as_factor <- function(x, column) {
  present <- unique(x[!is.na(x)])
  lv <- if (!is.null(LEVELS[[column]])) LEVELS[[column]][LEVELS[[column]] %in% present]
        else sort(present)
  factor(x, levels = lv)
}

# ---- balance as cobalt::bal.tab(binary = "std", s.d.denom = "pooled"), by hand -------------
# Terms: a numeric covariate as is; a factor with 2 levels as its second level; a factor with 3+
# levels as every level. A term with two distinct values is binary: its variance is p(1 - p).
# SMD = (weighted mean treated - weighted mean control) / sqrt((s2_t + s2_c) / 2), the variances
# from the UNADJUSTED sample (unweighted). Weighted variance (for variance ratios) as cobalt's
# col_w_var: sum(w (x - m)^2) * sum(w) / (sum(w)^2 - sum(w^2)); ratio = treated / control.
balance_terms <- function(dd, covariates) {
  out <- list()
  for (v in covariates) {
    x <- dd[[v]]
    if (is.factor(x)) {
      lv <- levels(x)
      use <- if (length(lv) == 2) lv[2] else lv
      for (l in use) out[[sprintf("%s[%s]", v, l)]] <- as.numeric(x == l)
    } else out[[v]] <- x
  }
  out
}
w_mean <- function(x, w) sum(w * x) / sum(w)
w_var <- function(x, w) {
  m <- w_mean(x, w)
  sum(w * (x - m)^2) * sum(w) / (sum(w)^2 - sum(w^2))
}
balance <- function(terms, z, w) {
  res <- lapply(names(terms), function(nm) {
    x <- terms[[nm]]
    binary <- length(unique(x)) == 2
    p_var <- function(x) { p <- mean(x); p * (1 - p) }
    s2 <- if (binary) c(p_var(x[z == 1]), p_var(x[z == 0])) else c(var(x[z == 1]), var(x[z == 0]))
    denom <- sqrt(mean(s2))
    one <- rep(1, length(x))
    smd <- function(ww) (w_mean(x[z == 1], ww[z == 1]) - w_mean(x[z == 0], ww[z == 0])) / denom
    vr <- function(ww) if (binary) NA else w_var(x[z == 1], ww[z == 1]) / w_var(x[z == 0], ww[z == 0])
    c(smd_before = smd(one), smd_after = smd(w), vr_before = vr(one), vr_after = vr(w),
      binary = as.numeric(binary))
  })
  m <- do.call(rbind, res)
  list(term = names(terms), smd_before = unname(m[, "smd_before"]), smd_after = unname(m[, "smd_after"]),
       vr_before = unname(m[, "vr_before"]), vr_after = unname(m[, "vr_after"]),
       binary = unname(m[, "binary"]) == 1)
}
ess <- function(w) sum(w)^2 / sum(w^2)

# ---- outcomes on the adjusted cohort ----------------------------------------------------------
km_weighted <- function(dd, w) {
  fit <- survfit(Surv(os_months, os_event) ~ treatment_group, data = cbind(dd, w = w)[w > 0, ],
                 weights = w)
  q <- quantile(fit, 0.5)
  strata <- rep(sub("^treatment_group=", "", names(fit$strata)), fit$strata)
  list(group = strata, time = fit$time, survival = fit$surv, std_err = fit$std.err,
       lower = fit$lower, upper = fit$upper, at_risk = fit$n.risk, events = fit$n.event,
       median = unname(as.numeric(q$quantile)), median_lower = unname(as.numeric(q$lower)),
       median_upper = unname(as.numeric(q$upper)),
       median_group = sub("^treatment_group=", "", rownames(q$quantile)))
}
cox_weighted <- function(dd, w, cluster = NULL) {
  d2 <- cbind(dd, w = w)[w > 0, ]
  fit <- if (is.null(cluster)) coxph(Surv(os_months, os_event) ~ treatment_group, data = d2,
                                     weights = w, robust = TRUE)
         else { d2$cl <- cluster[w > 0]
                coxph(Surv(os_months, os_event) ~ treatment_group, data = d2, weights = w,
                      cluster = cl) }
  sm <- summary(fit)
  list(coef = unname(coef(fit)), se = unname(sqrt(diag(fit$naive.var))),
       robust_se = unname(sqrt(diag(fit$var))), hr_lower = unname(sm$conf.int[, "lower .95"]),
       hr_upper = unname(sm$conf.int[, "upper .95"]),
       p_value = unname(sm$coefficients[, "Pr(>|z|)"]), n = fit$n, events = fit$nevent)
}

# ---- one cohort -------------------------------------------------------------------------------
case <- function(d, covariates) {
  dd <- d
  dd$treatment_group <- as_factor(dd$treatment_group, "treatment_group")
  for (v in covariates) if (is.character(dd[[v]])) dd[[v]] <- as_factor(dd[[v]], v)
  cc <- complete.cases(dd[, c("treatment_group", covariates)])
  n_excluded <- sum(!cc)
  dd <- dd[cc, ]
  z <- as.numeric(dd$treatment_group == "local+systemic")
  form <- as.formula(paste("z ~", paste(covariates, collapse = " + ")))
  dd$z <- z
  g <- glm(form, data = dd, family = binomial)
  ps <- unname(fitted(g))
  lp <- unname(predict(g, type = "link"))
  sm <- summary(g)$coefficients
  terms <- rownames(sm)
  for (v in covariates) if (is.factor(dd[[v]])) {
    hit <- startsWith(terms, v) & nchar(terms) > nchar(v)
    terms[hit] <- paste0(v, "[", substring(terms[hit], nchar(v) + 1), "]")
  }
  pt <- mean(z)
  # c-statistic: P(ps_treated > ps_control) + 0.5 P(tie), the Mann-Whitney form
  r <- rank(ps)
  n1 <- sum(z); n0 <- sum(1 - z)
  cstat <- (sum(r[z == 1]) - n1 * (n1 + 1) / 2) / (n1 * n0)

  weights <- list(
    ate = ifelse(z == 1, 1 / ps, 1 / (1 - ps)),
    ate_stabilized = ifelse(z == 1, pt / ps, (1 - pt) / (1 - ps)),
    att = ifelse(z == 1, 1, ps / (1 - ps)),
    overlap = ifelse(z == 1, 1 - ps, ps)
  )
  bterms <- balance_terms(dd, covariates)
  weighting <- lapply(names(weights), function(nm) {
    w <- weights[[nm]]
    list(weight = w, ess_treated = ess(w[z == 1]), ess_control = ess(w[z == 0]),
         balance = balance(bterms, z, w), km = km_weighted(dd, w), cox = cox_weighted(dd, w))
  })
  names(weighting) <- names(weights)

  # trimming at 0.1 (same PS model, rows outside [0.1, 0.9] dropped; stabilised ATE weights with
  # the treated fraction of the kept rows)
  keep <- ps >= 0.1 & ps <= 0.9
  pt_k <- mean(z[keep])
  trimmed <- list(trim = 0.1, kept = dd$patient_id[keep],
                  weight = ifelse(z[keep] == 1, pt_k / ps[keep], (1 - pt_k) / (1 - ps[keep])))

  matching <- lapply(list(list(ratio = 1, caliper = 0.2), list(ratio = 2, caliper = 0.2),
                          list(ratio = 1, caliper = NULL)), function(a) {
    m <- suppressWarnings(matchit(form, data = dd, method = "nearest", distance = "glm",
                                  link = "linear.logit", caliper = a$caliper, ratio = a$ratio,
                                  replace = FALSE, m.order = "largest"))
    w <- unname(m$weights)
    sub <- as.character(m$subclass)
    cl <- ifelse(is.na(sub), NA, sub)
    res <- list(ratio = a$ratio, caliper = if (is.null(a$caliper)) NA else a$caliper,
                caliper_logit = if (is.null(a$caliper)) NA else a$caliper * sd(lp),
                distance = unname(m$distance),
                matched = dd$patient_id[w > 0], weight = w[w > 0], subclass = cl[w > 0],
                ess_treated = ess(w[z == 1 & w > 0]), ess_control = ess(w[z == 0 & w > 0]),
                balance = balance(bterms, z, w), km = km_weighted(dd, w))
    res$cox <- cox_weighted(dd, w, cluster = sub)
    res
  })

  list(
    call = paste0("glm(", deparse(form, width.cutoff = 500), ", family = binomial); ",
                  "matchit(..., method = 'nearest', distance = 'glm', link = 'linear.logit', ",
                  "caliper = 0.2, ratio = 1, replace = FALSE, m.order = 'largest')"),
    covariates = covariates, n = nrow(dd), n_excluded = n_excluded, patient_id = dd$patient_id,
    glm = list(term = terms, coef = unname(sm[, 1]), se = unname(sm[, 2]), ps = ps, lp = lp,
               iter = g$iter, deviance = g$deviance),
    treated_fraction = pt, c_statistic = cstat,
    weighting = weighting, trimmed = trimmed, matching = matching
  )
}

# ---- E-values (VanderWeele and Ding 2017), by hand ------------------------------------------
# Common outcome: RR = (1 - 0.5^sqrt(HR)) / (1 - 0.5^sqrt(1 / HR)); rare: RR = HR.
# E = RR + sqrt(RR (RR - 1)) for RR >= 1 (RR < 1: use 1 / RR); CI: the limit nearest 1, 1 if
# the interval contains 1.
evalue_rr <- function(rr) { rr <- ifelse(rr < 1, 1 / rr, rr); rr + sqrt(rr * (rr - 1)) }
hr_to_rr <- function(hr, rare) if (rare) hr else (1 - 0.5^sqrt(hr)) / (1 - 0.5^sqrt(1 / hr))
evalue <- function(hr, lo, hi, rare) {
  point <- evalue_rr(hr_to_rr(hr, rare))
  ci <- if (lo <= 1 && hi >= 1) 1 else evalue_rr(hr_to_rr(if (hr < 1) hi else lo, rare))
  list(hr = hr, lower = lo, upper = hi, rare = rare, point = point, ci = ci)
}
evalues <- list(evalue(0.56, 0.46, 0.69, FALSE), evalue(0.56, 0.46, 0.69, TRUE),
                evalue(2.3, 1.4, 3.8, FALSE), evalue(2.3, 1.4, 3.8, TRUE),
                evalue(0.8, 0.6, 1.1, FALSE), evalue(1, 0.7, 1.4, FALSE))

ref <- list(
  generated_by = "tests/reference/make_reference_propensity.R",
  r_version = R.version.string,
  packages = list(survival = as.character(packageVersion("survival")),
                  MatchIt = as.character(packageVersion("MatchIt"))),
  cohorts = lapply(cohorts, function(c) case(c$data, c$covariates)),
  evalues = evalues
)
writeLines(toJSON(ref, auto_unbox = TRUE, digits = NA, na = "null", pretty = FALSE),
           file.path(out_dir, "r_reference_propensity.json"))
cat("wrote", file.path(out_dir, "r_reference_propensity.json"), "\n")
