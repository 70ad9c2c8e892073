print("lab-runner")
