#pragma once
// Schedules from user functions of the epoch, as torch.optim.lr_scheduler:
//   LambdaLR:         lr = base_lr · f(epoch)
//   MultiplicativeLR: lr = previous lr · f(epoch) for epoch > 0
// One function for every group, or one per group (Error when the count differs or a
// function is empty). The functions are not saved in state_dict (as in torch).
#include <descent/optim/schedulers/scheduler.h>

#include <functional>

namespace descent::optim {

using LrLambda = std::function<double(int64_t epoch)>;

class LambdaLR : public LRScheduler {
 public:
  LambdaLR(Optimizer& opt, LrLambda lr_lambda);
  LambdaLR(Optimizer& opt, std::vector<LrLambda> lr_lambdas);
  std::string_view name() const override { return "lambda_lr"; }

 protected:
  std::vector<double> compute_lr() override;

 private:
  std::vector<LrLambda> lambdas_;
};

class MultiplicativeLR : public LRScheduler {
 public:
  MultiplicativeLR(Optimizer& opt, LrLambda lr_lambda);
  MultiplicativeLR(Optimizer& opt, std::vector<LrLambda> lr_lambdas);
  std::string_view name() const override { return "multiplicative_lr"; }

 protected:
  std::vector<double> compute_lr() override;

 private:
  std::vector<LrLambda> lambdas_;
};

}  // namespace descent::optim
