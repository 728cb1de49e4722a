"""The installment-loan product: applications, schedules, loans, installments, payments."""
