#include <descent/optim/schedulers/lambda_lr.h>

namespace descent::optim {
namespace {

std::vector<LrLambda> per_group_lambdas(std::vector<LrLambda> fns, size_t groups,
                                        std::string_view who) {
  check(fns.size() == 1 || fns.size() == groups, who,
        "expected 1 or {} lr_lambdas (one per parameter group), got {}", groups, fns.size());
  for (size_t i = 0; i < fns.size(); ++i) {
    check(bool(fns[i]), who, "lr_lambda {} is empty", i);
  }
  if (fns.size() == 1) fns.resize(groups, fns[0]);
  return fns;
}

}  // namespace

LambdaLR::LambdaLR(Optimizer& opt, LrLambda lr_lambda)
    : LambdaLR(opt, std::vector<LrLambda>{std::move(lr_lambda)}) {}

LambdaLR::LambdaLR(Optimizer& opt, std::vector<LrLambda> lr_lambdas) : LRScheduler(opt) {
  lambdas_ = per_group_lambdas(std::move(lr_lambdas), num_groups(), "LambdaLR");
  initial_step();
}

std::vector<double> LambdaLR::compute_lr() {
  std::vector<double> out(num_groups());
  for (size_t g = 0; g < out.size(); ++g) out[g] = base_lrs_[g] * lambdas_[g](last_epoch_);
  return out;
}

MultiplicativeLR::MultiplicativeLR(Optimizer& opt, LrLambda lr_lambda)
    : MultiplicativeLR(opt, std::vector<LrLambda>{std::move(lr_lambda)}) {}

MultiplicativeLR::MultiplicativeLR(Optimizer& opt, std::vector<LrLambda> lr_lambdas)
    : LRScheduler(opt) {
  lambdas_ = per_group_lambdas(std::move(lr_lambdas), num_groups(), "MultiplicativeLR");
  initial_step();
}

std::vector<double> MultiplicativeLR::compute_lr() {
  std::vector<double> out = current_lrs();
  if (last_epoch_ > 0) {
    for (size_t g = 0; g < out.size(); ++g) out[g] *= lambdas_[g](last_epoch_);
  }
  return out;
}

}  // namespace descent::optim
